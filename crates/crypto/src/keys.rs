//! The master key and the independent subkeys derived from it, one per purpose.

use hkdf::Hkdf;
use sha2::Sha256;
use thiserror::Error;

/// The fewest bytes a master key may have: 256 bits.
pub const MIN_MASTER_KEY_BYTES: usize = 32;

/// HKDF `info` labels, one per purpose, so no two adapters ever share a key.
pub(crate) const JWT_LABEL: &str = "whisper/jwt";
pub(crate) const LINK_TOKENS_LABEL: &str = "whisper/link-tokens";
pub(crate) const TOTP_SEAL_LABEL: &str = "whisper/totp-seal";
pub(crate) const SESSION_COOKIE_LABEL: &str = "whisper/session-cookie";
pub(crate) const CURSOR_LABEL: &str = "whisper/page-cursors";

/// Why a master key was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The configured secret key (`WHISPER_SECRET_KEY`) is too short to be safe.
    #[error(
        "WHISPER_SECRET_KEY must be at least {MIN_MASTER_KEY_BYTES} bytes long, got {len}; generate one with e.g. `head -c 48 /dev/urandom | base64`"
    )]
    TooShort { len: usize },
}

/// The server's secret key (`WHISPER_SECRET_KEY`), from which every other key is derived
/// with HKDF-SHA256. Never printed.
#[derive(Clone)]
pub struct MasterKey(Vec<u8>);

impl MasterKey {
    /// Accepts the configured secret key bytes; refuses fewer than [`MIN_MASTER_KEY_BYTES`].
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret.as_ref();
        if secret.len() < MIN_MASTER_KEY_BYTES {
            return Err(KeyError::TooShort { len: secret.len() });
        }
        Ok(Self(secret.to_vec()))
    }

    /// The 64-byte key that signs and encrypts session cookies (actix-session's `Key::from`).
    pub fn session_cookie_key(&self) -> [u8; 64] {
        self.derive(SESSION_COOKIE_LABEL)
    }

    /// The `N`-byte subkey for `label`: stable for one master key, independent across labels.
    pub(crate) fn derive<const N: usize>(&self, label: &str) -> [u8; N] {
        const { assert!(N <= 255 * 32, "HKDF-SHA256 yields at most 8160 bytes") };
        let mut okm = [0u8; N];
        // Expansion fails only for outputs longer than 255 hashes, ruled out at compile time
        // above, so the result carries no information.
        let _ = Hkdf::<Sha256>::new(None, &self.0).expand(label.as_bytes(), &mut okm);
        okm
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::master;

    #[test]
    fn short_master_key_is_refused() {
        assert_eq!(
            MasterKey::new([7u8; 31]).err(),
            Some(KeyError::TooShort { len: 31 })
        );
        assert!(MasterKey::new(b"").is_err());
        assert!(MasterKey::new([7u8; 32]).is_ok());
        assert!(MasterKey::new("a much longer passphrase of more than 32 bytes").is_ok());
    }

    #[test]
    fn short_master_key_error_names_the_setting() {
        let err = MasterKey::new("short").unwrap_err();
        assert!(err.to_string().contains("WHISPER_SECRET_KEY"));
    }

    #[test]
    fn subkeys_differ_per_purpose() {
        let key = master(1);
        let labels = [
            JWT_LABEL,
            LINK_TOKENS_LABEL,
            TOTP_SEAL_LABEL,
            SESSION_COOKIE_LABEL,
        ];
        let subkeys: Vec<[u8; 64]> = labels.iter().map(|label| key.derive(label)).collect();
        for (i, a) in subkeys.iter().enumerate() {
            for b in &subkeys[i + 1..] {
                assert_ne!(a, b);
            }
            assert_ne!(a.as_slice(), key.0.as_slice());
        }
    }

    #[test]
    fn subkeys_are_stable_for_the_same_master_key() {
        let a = MasterKey::new([9u8; 40]).unwrap();
        let b = MasterKey::new([9u8; 40]).unwrap();
        assert_eq!(a.session_cookie_key(), b.session_cookie_key());
        assert_eq!(a.derive::<32>(JWT_LABEL), b.derive::<32>(JWT_LABEL));
    }

    #[test]
    fn subkeys_differ_per_master_key() {
        assert_ne!(
            master(1).session_cookie_key(),
            master(2).session_cookie_key()
        );
    }

    #[test]
    fn shorter_subkey_is_a_prefix_of_the_longer_one_for_the_same_purpose() {
        // HKDF-Expand property: lengths don't change the stream, so sizes can grow safely.
        let key = master(3);
        let short: [u8; 32] = key.derive(JWT_LABEL);
        let long: [u8; 64] = key.derive(JWT_LABEL);
        assert_eq!(short, long[..32]);
    }

    #[test]
    fn master_key_is_never_printed() {
        assert_eq!(format!("{:?}", master(5)), "MasterKey(..)");
    }
}
