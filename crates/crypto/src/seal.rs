//! Sealing small secrets (TOTP seeds) before they are stored, with XChaCha20-Poly1305.
//!
//! Sealed form: `24-byte random nonce || ciphertext (with its 16-byte tag)`. Random 192-bit
//! nonces never repeat in practice, so no counter has to be kept.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng as _;
use whisper_domain::ports::SecretSealer;
use whisper_domain::{DomainError, DomainResult};

use crate::keys::{MasterKey, TOTP_SEAL_LABEL};

const NONCE_BYTES: usize = 24;

/// Encrypts and authenticates secrets with a key derived from the master key.
#[derive(Clone)]
pub struct AeadSealer {
    cipher: XChaCha20Poly1305,
}

impl AeadSealer {
    /// A sealer keyed by `master`'s "whisper/totp-seal" subkey.
    pub fn new(master: &MasterKey) -> Self {
        let key: [u8; 32] = master.derive(TOTP_SEAL_LABEL);
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }
}

impl SecretSealer for AeadSealer {
    fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill(&mut nonce);
        let mut sealed = nonce.to_vec();
        // Encryption fails only for plaintexts of 256 GiB or more, far beyond any secret;
        // should it ever fail, the nonce alone is returned, which `open` refuses.
        if let Ok(ciphertext) = self.cipher.encrypt(&XNonce::from(nonce), plaintext) {
            sealed.extend_from_slice(&ciphertext);
        }
        sealed
    }

    fn open(&self, sealed: &[u8]) -> DomainResult<Vec<u8>> {
        let refused = || {
            DomainError::internal(
                "a sealed secret failed to open (tampered with or sealed under another key)",
            )
        };
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_BYTES).ok_or_else(refused)?;
        let nonce = XNonce::try_from(nonce).map_err(|_| refused())?;
        self.cipher
            .decrypt(&nonce, ciphertext)
            .map_err(|_| refused())
    }
}

impl std::fmt::Debug for AeadSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadSealer(XChaCha20-Poly1305, ..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::master;

    const SECRET: &[u8] = b"12345678901234567890";

    fn sealer(byte: u8) -> AeadSealer {
        AeadSealer::new(&master(byte))
    }

    #[test]
    fn sealed_secret_opens_to_the_plaintext() {
        let sealer = sealer(1);
        let sealed = sealer.seal(SECRET);
        assert_eq!(sealed.len(), NONCE_BYTES + SECRET.len() + 16);
        assert!(!sealed.windows(SECRET.len()).any(|w| w == SECRET));
        assert_eq!(sealer.open(&sealed).unwrap(), SECRET);
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let sealer = sealer(1);
        assert_eq!(sealer.open(&sealer.seal(b"")).unwrap(), b"");
    }

    #[test]
    fn sealing_twice_gives_different_output() {
        let sealer = sealer(1);
        assert_ne!(sealer.seal(SECRET), sealer.seal(SECRET));
    }

    #[test]
    fn tampered_sealed_secret_is_refused_as_internal() {
        let sealer = sealer(1);
        let sealed = sealer.seal(SECRET);
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x80;
            assert!(
                matches!(sealer.open(&tampered), Err(DomainError::Internal(_))),
                "byte {i}"
            );
        }
    }

    #[test]
    fn truncated_sealed_secret_is_refused() {
        let sealer = sealer(1);
        let sealed = sealer.seal(SECRET);
        for len in 0..sealed.len() {
            assert!(matches!(
                sealer.open(&sealed[..len]),
                Err(DomainError::Internal(_))
            ));
        }
    }

    #[test]
    fn secret_sealed_under_another_key_is_refused() {
        let sealed = sealer(1).seal(SECRET);
        assert!(matches!(
            sealer(2).open(&sealed),
            Err(DomainError::Internal(_))
        ));
    }
}
