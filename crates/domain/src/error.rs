//! The one error type of the business rules.

use thiserror::Error;

/// Why a business operation did not happen; adapters map each variant to their protocol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// An input breaks a rule of the business, e.g. an email that is not an email.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A well-formed request refused in the current state, e.g. an expired link.
    #[error("{reason}")]
    Rejected { code: &'static str, reason: String },
    /// The thing asked for does not exist.
    #[error("{reason}")]
    NotFound { code: &'static str, reason: String },
    /// The request clashes with existing state, e.g. an email already registered.
    #[error("{reason}")]
    Conflict { code: &'static str, reason: String },
    /// The caller has not proved who they are.
    #[error("{reason}")]
    Unauthenticated { code: &'static str, reason: String },
    /// The caller is known but not allowed to do this.
    #[error("{reason}")]
    Forbidden { code: &'static str, reason: String },
    /// Too many attempts; the caller may try again after the given number of seconds.
    #[error("too many attempts, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A backing service (database, mail server) cannot be reached right now.
    #[error("{service} is unavailable")]
    Unavailable { service: &'static str },
    /// An outside service we depend on (an identity provider) failed or timed out.
    #[error("{service} failed: {reason}")]
    Upstream {
        service: &'static str,
        reason: String,
    },
    /// Something that should not happen did; the reason is for logs, never for clients.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl DomainError {
    /// An input rule broken by `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// A refusal with a stable `code`.
    pub fn rejected(code: &'static str, reason: impl Into<String>) -> Self {
        Self::Rejected {
            code,
            reason: reason.into(),
        }
    }

    /// A missing thing, with a stable `code` (usually `not_found`).
    pub fn not_found(code: &'static str, reason: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            reason: reason.into(),
        }
    }

    /// A clash with existing state, with a stable `code`.
    pub fn conflict(code: &'static str, reason: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            reason: reason.into(),
        }
    }

    /// A missing or unusable credential, with a stable `code`.
    pub fn unauthenticated(code: &'static str, reason: impl Into<String>) -> Self {
        Self::Unauthenticated {
            code,
            reason: reason.into(),
        }
    }

    /// A known caller without the right, with a stable `code`.
    pub fn forbidden(code: &'static str, reason: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            reason: reason.into(),
        }
    }

    /// A failure that is nobody's input; the reason goes to logs only.
    pub fn internal(reason: impl Into<String>) -> Self {
        Self::Internal {
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of business operations.
pub type DomainResult<T> = Result<T, DomainError>;
