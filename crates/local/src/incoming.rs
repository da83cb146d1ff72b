//! Where media files are written before they count: `<media_dir>/.incoming/<claim>/`, one
//! directory per running store, held by a lock on `<claim>.lock` for as long as the
//! process lives. A process that dies (even `kill -9`) releases its lock, so the next
//! sweep knows its half-written files are abandoned and removes them, while the live
//! uploads of other instances sharing the directory are left alone.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use whisper_domain::MediaKey;

/// The directory of incoming files under the media directory.
pub const INCOMING: &str = ".incoming";
/// What the older layout named a file being written beside its final name.
const LEGACY_PARTIAL: &str = "partial";

/// One store's own incoming directory, claimed for as long as this value lives.
#[derive(Debug)]
pub struct Claim {
    /// Where this store writes files before renaming them into place.
    pub dir: PathBuf,
    // Held open: the lock lasts as long as the file stays open.
    _lock: File,
}

impl Claim {
    /// Claims a fresh incoming directory under `root`: the lock first, then the directory,
    /// so a sweep never sees the directory unlocked while this process lives.
    pub fn new(root: &Path) -> io::Result<Self> {
        let incoming = root.join(INCOMING);
        std::fs::create_dir_all(&incoming)?;
        let name = MediaKey::generate().as_str().to_owned();
        let lock_path = incoming.join(format!("{name}.lock"));
        OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&lock_path)?;
        // Held open read-only: a file open for writing would keep the disk from being
        // remounted read-only (`mount point is busy`).
        let lock = File::open(&lock_path)?;
        lock.try_lock().map_err(io::Error::from)?;
        let dir = incoming.join(name);
        std::fs::create_dir(&dir)?;
        Ok(Self { dir, _lock: lock })
    }
}

/// Removes what died processes left half-written under `root`: the incoming directories
/// whose lock nobody holds, and `*.partial` files of the older layout (which wrote them
/// beside the final names). Returns how many files it removed. Run it at start-up.
pub fn sweep_abandoned(root: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let incoming = root.join(INCOMING);
    for entry in read_dir_if_any(&incoming)? {
        let path = entry?.path();
        if !path.is_dir() || is_claimed(&path)? {
            continue;
        }
        removed += std::fs::read_dir(&path)?.count();
        std::fs::remove_dir_all(&path)?;
        remove_if_any(&path.with_extension("lock"))?;
    }
    for shard in read_dir_if_any(root)? {
        let shard = shard?.path();
        if !shard.is_dir() || shard.ends_with(INCOMING) {
            continue;
        }
        for file in std::fs::read_dir(&shard)? {
            let file = file?.path();
            if file.extension().is_some_and(|ext| ext == LEGACY_PARTIAL) {
                remove_if_any(&file)?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Whether a live process holds the lock of incoming directory `dir`.
fn is_claimed(dir: &Path) -> io::Result<bool> {
    let lock = match File::open(dir.with_extension("lock")) {
        Ok(lock) => lock,
        // No lock file: nobody can hold it.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(error),
    };
    match lock.try_lock() {
        Ok(()) => Ok(false),
        Err(TryLockError::WouldBlock) => Ok(true),
        Err(TryLockError::Error(error)) => Err(error),
    }
}

fn read_dir_if_any(dir: &Path) -> io::Result<Vec<io::Result<std::fs::DirEntry>>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.collect()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error),
    }
}

fn remove_if_any(file: &Path) -> io::Result<()> {
    match std::fs::remove_file(file) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_root() -> PathBuf {
        let name = format!("whisper-incoming-{}", MediaKey::generate().as_str());
        std::env::temp_dir().join(name)
    }

    #[test]
    fn a_sweep_removes_abandoned_files_and_keeps_live_ones() {
        let root = fresh_root();
        let live = Claim::new(&root).unwrap();
        std::fs::write(live.dir.join("uploading"), b"half").unwrap();
        let dead = Claim::new(&root).unwrap();
        std::fs::write(dead.dir.join("abandoned"), b"half").unwrap();
        let dead_dir = dead.dir.clone();
        drop(dead); // what dying does to its lock
        std::fs::create_dir_all(root.join("ab")).unwrap();
        std::fs::write(root.join("ab").join("abKEY.partial"), b"old").unwrap();
        std::fs::write(root.join("ab").join("abKEY"), b"whole").unwrap();

        assert_eq!(sweep_abandoned(&root).unwrap(), 2);
        assert!(!dead_dir.exists());
        assert!(!dead_dir.with_extension("lock").exists());
        assert!(live.dir.join("uploading").exists());
        assert!(root.join("ab").join("abKEY").exists());
        assert!(!root.join("ab").join("abKEY.partial").exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn sweeping_a_directory_that_does_not_exist_yet_removes_nothing() {
        assert_eq!(sweep_abandoned(&fresh_root()).unwrap(), 0);
    }
}
