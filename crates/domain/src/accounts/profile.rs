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

    /// Accounts whose username starts with `prefix`, ignoring case, by username.
    pub async fn search_users(&self, prefix: &str) -> DomainResult<Vec<User>> {
        self.ports
            .users
            .search_by_username(prefix.trim(), SEARCH_LIMIT)
            .await
    }
}
