//! What people see and change of their own account, and finding others.

use crate::error::DomainResult;
use crate::id::UserId;
use crate::user::User;
use crate::username::Username;

use super::Accounts;

/// Most accounts a username search returns.
pub const SEARCH_LIMIT: u32 = 50;

impl Accounts {
    /// Renames the account; the name then counts as chosen.
    pub async fn rename(&self, user: &UserId, username: &Username) -> DomainResult<User> {
        self.ports.users.rename(user, username, true).await
    }

    /// Accounts whose username starts with `prefix`, ignoring case, by username. A prefix no
    /// username can start with (other characters, a NUL byte) finds nobody without asking
    /// the repository.
    pub async fn search_users(&self, prefix: &str) -> DomainResult<Vec<User>> {
        let prefix = prefix.trim();
        if !Username::may_start_with(prefix) {
            return Ok(Vec::new());
        }
        self.ports
            .users
            .search_by_username(prefix, SEARCH_LIMIT)
            .await
    }
}

#[cfg(test)]
mod tests {
    use futures_executor::block_on;

    use super::super::fixtures::Harness;

    #[test]
    fn a_prefix_no_username_can_start_with_finds_nobody_without_a_query() {
        let mut harness = Harness::new();
        harness.users.expect_search_by_username().never();
        let accounts = harness.build();
        for prefix in ["ada\0", "\u{0}", "zoë", "a b", &"a".repeat(31)] {
            assert_eq!(
                block_on(accounts.search_users(prefix)),
                Ok(Vec::new()),
                "{prefix:?}"
            );
        }
    }

    #[test]
    fn a_prefix_of_username_characters_is_searched_trimmed() {
        let mut harness = Harness::new();
        harness
            .users
            .expect_search_by_username()
            .withf(|prefix, limit| prefix == "ada" && *limit == super::SEARCH_LIMIT)
            .times(1)
            .returning(|_, _| Ok(Vec::new()));
        assert_eq!(
            block_on(harness.build().search_users(" ada ")),
            Ok(Vec::new())
        );
    }
}
