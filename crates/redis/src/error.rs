//! Why a link to Redis could not be set up.

/// A configuration the link cannot work with; an unreachable Redis is not one (the
/// instance starts degraded and keeps trying).
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The Redis URL could not be read.
    #[error("the Redis URL (WHISPER_REDIS_URL) is invalid: {reason}")]
    InvalidUrl {
        /// What is wrong with it, without the URL itself (it may hold a password).
        reason: String,
    },
    /// The key prefix is empty or holds characters that would blur key names.
    #[error("the Redis key prefix {prefix:?} must be non-empty, without spaces or '|'")]
    InvalidPrefix {
        /// The prefix given.
        prefix: String,
    },
    /// Redis did not answer a probe (`whisper check-config`); the server itself starts
    /// degraded instead.
    #[error("Redis (WHISPER_REDIS_URL) does not answer: {reason}")]
    Unreachable {
        /// What the connection attempt said.
        reason: String,
    },
}
