//! Media files on the local file system under `WHISPER_MEDIA_DIR`, named by the server's
//! keys (never by a client), spread over subdirectories by the key's first two characters.
//! A file is written in this store's incoming directory (see `incoming`), synced, then
//! renamed under its key: a crash never leaves half a file under a key, and what it leaves
//! in the incoming directory is removed by the next start's sweep.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use whisper_domain::ports::MediaStore;
use whisper_domain::{DomainError, DomainResult, MediaKey, MediaReader, Service};

use crate::incoming::Claim;

/// Bytes per chunk when streaming a file out.
const CHUNK: usize = 64 * 1024;

/// A media directory.
#[derive(Debug, Clone)]
pub struct FsMediaStore {
    root: PathBuf,
    /// This store's incoming directory, claimed at the first write.
    claim: Arc<Mutex<Option<Arc<Claim>>>>,
}

impl FsMediaStore {
    /// Media under `root` (created when the first file is stored).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            claim: Arc::default(),
        }
    }

    /// Removes the half-written files that died processes left under `root` (see
    /// [`crate::incoming::sweep_abandoned`]); how many there were.
    pub fn sweep_abandoned(root: &Path) -> std::io::Result<usize> {
        crate::incoming::sweep_abandoned(root)
    }

    /// Where this store writes a file before it counts.
    fn incoming_dir(&self) -> DomainResult<PathBuf> {
        let mut claim = self.claim.lock();
        if let Some(claim) = claim.as_ref() {
            return Ok(claim.dir.clone());
        }
        let claimed =
            Claim::new(&self.root).map_err(|e| storage_error("claiming", &self.root, e))?;
        let dir = claimed.dir.clone();
        *claim = Some(Arc::new(claimed));
        Ok(dir)
    }

    fn path_of(&self, key: &MediaKey) -> PathBuf {
        let name = key.as_str();
        self.root.join(&name[..2]).join(name)
    }
}

/// A full, read-only or forbidden disk is unavailable storage (the client may retry and
/// text keeps working); anything else is internal.
fn storage_error(what: &str, path: &Path, error: std::io::Error) -> DomainError {
    use std::io::ErrorKind;
    tracing::error!(path = %path.display(), %error, "media storage failed: {what}");
    match error.kind() {
        ErrorKind::StorageFull
        | ErrorKind::QuotaExceeded
        | ErrorKind::ReadOnlyFilesystem
        | ErrorKind::PermissionDenied => DomainError::Unavailable(Service::MediaStorage),
        _ => DomainError::internal(format!("media storage: {what} {}: {error}", path.display())),
    }
}

#[async_trait]
impl MediaStore for FsMediaStore {
    async fn put(&self, key: &MediaKey, bytes: &[u8]) -> DomainResult<()> {
        let path = self.path_of(key);
        let dir = path.parent().unwrap_or(&self.root).to_owned();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| storage_error("creating", &dir, e))?;
        let partial = self.incoming_dir()?.join(key.as_str());
        let written = write_synced(&partial, bytes).await;
        let stored = match written {
            Ok(()) => tokio::fs::rename(&partial, &path)
                .await
                .map_err(|e| storage_error("renaming", &path, e)),
            Err(error) => Err(error),
        };
        if stored.is_err() {
            // A full disk must not keep half a file either.
            let _ = tokio::fs::remove_file(&partial).await;
        }
        stored
    }

    async fn open(&self, key: &MediaKey) -> DomainResult<Option<Box<dyn MediaReader>>> {
        let path = self.path_of(key);
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(Some(Box::new(FileReader { file, path }))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(storage_error("opening", &path, error)),
        }
    }
}

async fn write_synced(path: &Path, bytes: &[u8]) -> DomainResult<()> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| storage_error("creating", path, e))?;
    file.write_all(bytes)
        .await
        .map_err(|e| storage_error("writing", path, e))?;
    // tokio writes in the background: a failed write (a full disk) is reported by the
    // next flush, and `sync_all` alone would drop it, keeping a truncated file.
    file.flush()
        .await
        .map_err(|e| storage_error("writing", path, e))?;
    file.sync_all()
        .await
        .map_err(|e| storage_error("syncing", path, e))
}

struct FileReader {
    file: tokio::fs::File,
    path: PathBuf,
}

#[async_trait]
impl MediaReader for FileReader {
    async fn next_chunk(&mut self) -> DomainResult<Option<Vec<u8>>> {
        let mut chunk = vec![0; CHUNK];
        let read = self
            .file
            .read(&mut chunk)
            .await
            .map_err(|e| storage_error("reading", &self.path, e))?;
        if read == 0 {
            return Ok(None);
        }
        chunk.truncate(read);
        Ok(Some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(mut reader: Box<dyn MediaReader>) -> Vec<u8> {
        let mut bytes = Vec::new();
        while let Some(chunk) = reader.next_chunk().await.unwrap() {
            assert!(chunk.len() <= CHUNK);
            bytes.extend(chunk);
        }
        bytes
    }

    #[tokio::test]
    async fn stored_media_reads_back_identically_in_chunks() {
        let root =
            std::env::temp_dir().join(format!("whisper-media-{}", MediaKey::generate().as_str()));
        let store = FsMediaStore::new(&root);
        let key = MediaKey::generate();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        store.put(&key, &bytes).await.unwrap();
        let reader = store.open(&key).await.unwrap().unwrap();
        assert_eq!(read_all(reader).await, bytes);
        assert!(store.open(&MediaKey::generate()).await.unwrap().is_none());
        // No partial file is left beside the stored one, nor in the incoming directory.
        let dir = root.join(&key.as_str()[..2]);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from(key.as_str())]);
        let incoming = store.incoming_dir().unwrap();
        assert_eq!(std::fs::read_dir(incoming).unwrap().count(), 0);
        std::fs::remove_dir_all(root).unwrap();
    }
}
