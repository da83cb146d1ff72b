//! The server's secret key (`WHISPER_SECRET_KEY`): never printed, strong in production,
//! generated once and kept in a file during development.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use whisper_crypto::{MIN_MASTER_KEY_BYTES, MasterKey};

use super::SettingsError;

const SETTING: &str = "WHISPER_SECRET_KEY";

/// The secret every other key is derived from; its `Debug` and `Display` print `[redacted]`.
#[derive(Clone)]
pub struct SecretKey(MasterKey);

impl SecretKey {
    /// The master key, for deriving the keys of each purpose.
    pub fn master_key(&self) -> &MasterKey {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where the secret key came from; a development key deserves a warning in the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `WHISPER_SECRET_KEY`.
    Environment,
    /// A development key file, `created` now or reused from an earlier start.
    DevelopmentFile { path: PathBuf, created: bool },
}

/// The secret key from `WHISPER_SECRET_KEY` (`configured`), else from `key_file`
/// (generated when missing). Production never gets here without a configured key.
pub fn resolve(
    configured: Option<&str>,
    key_file: &Path,
) -> Result<(SecretKey, KeyOrigin), SettingsError> {
    if let Some(secret) = configured {
        return master(secret).map(|key| (key, KeyOrigin::Environment));
    }
    let (secret, created) = development_key(key_file)?;
    let key = master(&secret).map_err(|e| {
        SettingsError::new(
            SETTING,
            format!(
                "the key in {} is unusable ({e}); delete the file to generate a new one",
                key_file.display()
            ),
        )
    })?;
    Ok((
        key,
        KeyOrigin::DevelopmentFile {
            path: key_file.to_path_buf(),
            created,
        },
    ))
}

/// Production has no development key to fall back on.
pub fn missing_in_production() -> SettingsError {
    SettingsError::new(
        SETTING,
        "is required in production; generate one with `openssl rand -base64 48`",
    )
}

fn master(secret: &str) -> Result<SecretKey, SettingsError> {
    MasterKey::new(secret.as_bytes())
        .map(SecretKey)
        .map_err(|_| {
            SettingsError::new(
                SETTING,
                format!(
                    "must be at least {MIN_MASTER_KEY_BYTES} bytes long, got {}; generate one with `openssl rand -base64 48`",
                    secret.len()
                ),
            )
        })
}

/// Production refuses secrets that are short, one repeated character, or a placeholder.
pub fn refuse_weak(secret: &str) -> Result<(), SettingsError> {
    let weak = |why: &str| {
        Err(SettingsError::new(
            SETTING,
            format!("{why}; generate one with `openssl rand -base64 48`"),
        ))
    };
    if secret.len() < MIN_MASTER_KEY_BYTES {
        return weak(&format!(
            "must be at least {MIN_MASTER_KEY_BYTES} bytes long in production, got {}",
            secret.len()
        ));
    }
    let mut chars = secret.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return weak("is one character repeated, which is no secret");
    }
    if secret.to_ascii_lowercase().starts_with("change-me") {
        return weak("is still the example placeholder");
    }
    Ok(())
}

/// Reads the development key, or generates 64 random bytes into `path` (mode 0600).
fn development_key(path: &Path) -> Result<(String, bool), SettingsError> {
    let file_error = |e: std::io::Error| {
        SettingsError::new(
            SETTING,
            format!(
                "is unset and the development key file {} cannot be used: {e}",
                path.display()
            ),
        )
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok((text.trim().to_owned(), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(e)),
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(file_error)?;
    }
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    let secret = STANDARD.encode(bytes);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())
                .and_then(|()| file.write_all(b"\n"))
                .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(0o600)))
                .map_err(file_error)?;
            Ok((secret, true))
        }
        // Another process generated it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(file_error)?;
            Ok((text.trim().to_owned(), false))
        }
        Err(e) => Err(file_error(e)),
    }
}
