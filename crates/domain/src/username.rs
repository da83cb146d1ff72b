//! Usernames, the name people see in rooms.

use crate::error::DomainError;
use crate::problem::{Field, Flaw};

/// A username: 3 to 30 characters of letters, digits, `.`, `_` or `-`, starting with a letter or digit.
/// Case is kept for display; uniqueness ignores case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

/// The shortest allowed username.
pub const USERNAME_MIN: usize = 3;
/// The longest allowed username.
pub const USERNAME_MAX: usize = 30;

impl Username {
    /// Accepts a username that follows the rules, trimming surrounding spaces.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let candidate = raw.trim();
        let length = candidate.chars().count();
        if !(USERNAME_MIN..=USERNAME_MAX).contains(&length) {
            return Err(DomainError::invalid(Field::Username, Flaw::UsernameLength));
        }
        let starts_well = candidate
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let allowed = candidate.chars().all(is_username_character);
        if !starts_well || !allowed {
            return Err(DomainError::invalid(
                Field::Username,
                Flaw::UsernameCharacters,
            ));
        }
        Ok(Self(candidate.to_owned()))
    }

    /// Whether some username could start with `prefix`: no longer than a username and only of
    /// its characters. A search for any other prefix has nothing to find.
    pub fn may_start_with(prefix: &str) -> bool {
        prefix.chars().count() <= USERNAME_MAX && prefix.chars().all(is_username_character)
    }

    /// A username made from a display name (`Ada Lovelace` → `Ada_Lovelace`), if enough of
    /// it is usable.
    pub fn from_display_name(name: &str) -> Option<Self> {
        let mut candidate = String::with_capacity(name.len());
        for c in name.trim().chars() {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                candidate.push(c);
            } else if c.is_whitespace() && !candidate.ends_with('_') {
                candidate.push('_');
            }
        }
        let trimmed: String = candidate
            .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
            .chars()
            .take(USERNAME_MAX)
            .collect();
        Self::parse(trimmed.trim_end_matches('_')).ok()
    }

    /// A random readable name such as `calm-otter-4821`, for accounts that chose none.
    pub fn generate_readable() -> Self {
        const ADJECTIVES: [&str; 16] = [
            "amber", "brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "kind",
            "lucky", "merry", "quiet", "rapid", "sunny", "swift", "witty",
        ];
        const ANIMALS: [&str; 16] = [
            "badger", "crane", "dolphin", "falcon", "fox", "heron", "koala", "lynx", "otter",
            "panda", "puffin", "raven", "seal", "tiger", "walrus", "wren",
        ];
        let random = nanoid::rngs::default(4);
        let pick = |i: usize| usize::from(random.get(i).copied().unwrap_or_default());
        let number = (pick(2) << 8 | pick(3)) % 10_000;
        Self(format!(
            "{}-{}-{number:04}",
            ADJECTIVES[pick(0) % ADJECTIVES.len()],
            ANIMALS[pick(1) % ANIMALS.len()]
        ))
    }

    /// The username as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::text::display_as_text!(Username);

fn is_username_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_become_usernames_when_enough_survives() {
        let from = |name: &str| Username::from_display_name(name).map(|u| u.as_str().to_owned());
        assert_eq!(from("Ada Lovelace"), Some("Ada_Lovelace".to_owned()));
        assert_eq!(
            from("  Grace   B. Hopper "),
            Some("Grace_B._Hopper".to_owned())
        );
        assert_eq!(from("_-Zoë Ünal"), Some("Zo_nal".to_owned()));
        assert_eq!(from("李小龙"), None);
        assert_eq!(from("Al"), None);
        assert_eq!(from(&"x".repeat(40)).map(|u| u.len()), Some(USERNAME_MAX));
    }

    #[test]
    fn usernames_keep_their_case_and_lose_surrounding_spaces() {
        assert_eq!(
            Username::parse(" Ada_Lovelace-1.0 ").map(|u| u.to_string()),
            Ok("Ada_Lovelace-1.0".to_owned())
        );
    }

    #[test]
    fn usernames_outside_the_length_bounds_are_refused() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
        assert!(Username::parse("abc").is_ok());
    }

    #[test]
    fn generated_usernames_follow_the_rules() {
        for _ in 0..100 {
            let generated = Username::generate_readable();
            assert_eq!(Username::parse(generated.as_str()), Ok(generated));
        }
    }

    #[test]
    fn only_prefixes_of_username_characters_may_start_a_username() {
        for prefix in ["", "a", "Ada_Lovelace-1.", "_", &"a".repeat(30)] {
            assert!(Username::may_start_with(prefix), "{prefix:?}");
        }
        for prefix in ["ada\0", "adä", "ada lovelace", "%", &"a".repeat(31)] {
            assert!(!Username::may_start_with(prefix), "{prefix:?}");
        }
    }

    #[test]
    fn usernames_with_other_characters_are_refused() {
        for raw in ["_ada", "-ada", "ada lovelace", "ada@home", "adä", "ada/1"] {
            assert!(Username::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }
}
