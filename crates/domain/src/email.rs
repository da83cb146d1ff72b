//! Email addresses, the identity of an account.

use crate::error::DomainError;
use crate::problem::{Field, Flaw};

/// A syntactically valid email address, lower-cased so that accounts match case-insensitively.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The longest email address, in bytes (RFC 5321).
pub const EMAIL_MAX: usize = 254;
const MAX_LOCAL_LENGTH: usize = 64;

impl Email {
    /// Accepts an address of the form `local@domain.tld`, trimming surrounding spaces.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let candidate = raw.trim().to_lowercase();
        let invalid = |flaw| Err(DomainError::invalid(Field::Email, flaw));
        if candidate.is_empty() {
            return invalid(Flaw::EmailMissing);
        }
        if candidate.len() > EMAIL_MAX {
            return invalid(Flaw::EmailTooLong);
        }
        let Some((local, domain)) = candidate.rsplit_once('@') else {
            return invalid(Flaw::EmailMalformed);
        };
        if !is_valid_local_part(local) || !is_valid_domain(domain) {
            return invalid(Flaw::EmailMalformed);
        }
        Ok(Self(candidate))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LENGTH
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()))
}

crate::text::display_as_text!(Email);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Problem;

    #[test]
    fn valid_addresses_are_accepted_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace+chat@Example.ORG ");
        assert_eq!(
            email.map(|e| e.to_string()).ok().as_deref(),
            Some("ada.lovelace+chat@example.org")
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "",
            "plainaddress",
            "@example.org",
            "ada@",
            "ada@example",
            "ada@@example.org",
            "ada lovelace@example.org",
            ".ada@example.org",
            "ada.@example.org",
            "a..da@example.org",
            "ada@-example.org",
            "ada@example.o2",
            "ada@exa_mple.org",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long_domain = format!("ada@{}.org", "a.".repeat(130));
        assert!(Email::parse(&long_domain).is_err());
    }

    #[test]
    fn errors_name_the_email_field() {
        assert!(matches!(
            Email::parse("nope"),
            Err(DomainError::Invalid(problems)) if problems == [Problem {
                field: Field::Email,
                flaw: Flaw::EmailMalformed,
            }]
        ));
    }
}
