//! Stored media bytes (images, audio, video), read back in chunks.

use async_trait::async_trait;

use crate::error::DomainResult;

/// Reads one stored media file from start to end.
#[async_trait]
pub trait MediaReader: Send {
    /// The next chunk of bytes; `None` at the end.
    async fn next_chunk(&mut self) -> DomainResult<Option<Vec<u8>>>;
}
