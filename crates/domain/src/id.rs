//! Identifiers: 21-character nanoids, typed per entity so they cannot be mixed up.

use crate::error::DomainError;
use crate::problem::{Field, Flaw};

/// Length of every Whisper identifier.
pub const ID_LENGTH: usize = 21;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn check_id(field: Field, raw: &str) -> Result<(), DomainError> {
    if raw.len() == ID_LENGTH && raw.chars().all(is_id_char) {
        Ok(())
    } else {
        Err(DomainError::invalid(field, Flaw::MalformedId))
    }
}

macro_rules! nanoid_type {
    ($(#[$doc:meta])* $name:ident, $field:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A fresh random identifier.
            pub fn generate() -> Self {
                Self(nanoid::nanoid!(ID_LENGTH))
            }

            /// Accepts only a well-formed nanoid.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                check_id($field, raw)?;
                Ok(Self(raw.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        crate::text::display_as_text!($name);

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }
    };
}

nanoid_type!(
    /// Identifies a person's account.
    UserId,
    Field::UserId
);
nanoid_type!(
    /// Identifies a chat room.
    RoomId,
    Field::RoomId
);
nanoid_type!(
    /// Identifies one message in a room.
    MessageId,
    Field::MessageId
);
nanoid_type!(
    /// Identifies one issued token (the JWT `jti`).
    TokenId,
    Field::TokenId
);
nanoid_type!(
    /// Identifies a chain of refresh tokens rotated from one login.
    TokenFamilyId,
    Field::TokenFamilyId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = UserId::generate();
        let b = UserId::generate();
        assert_ne!(a, b);
        assert_eq!(UserId::parse(a.as_str()), Ok(a));
    }

    #[test]
    fn ids_of_wrong_length_or_alphabet_are_refused() {
        assert!(RoomId::parse("short").is_err());
        assert!(RoomId::parse("EYoT9lPS1H0oP5_CjuDDk!").is_err());
        assert!(RoomId::parse("EYoT9lPS1H0oP5_CjuDD!").is_err());
        assert!(RoomId::parse("EYoT9lPS1H0oP5_CjuDDk").is_ok());
    }

    #[test]
    fn parse_errors_name_the_field() {
        let err = MessageId::parse("x").err();
        assert!(matches!(
            err,
            Some(DomainError::Invalid(problems)) if problems == [crate::problem::Problem {
                field: Field::MessageId,
                flaw: Flaw::MalformedId,
            }]
        ));
    }
}
