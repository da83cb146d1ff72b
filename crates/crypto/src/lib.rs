//! Whisper's cryptography adapters, all keyed from one master key (`WHISPER_SECRET_KEY`):
//! signed link tokens, TOTP, session JWTs and sealed secrets. Each adapter gets its own
//! subkey, derived with HKDF-SHA256 under a purpose label, so no key serves two purposes.
//!
//! ```
//! use whisper_crypto::{CryptoSuite, MasterKey};
//!
//! let master = MasterKey::new("at least thirty-two bytes of secret key material")?;
//! let suite = CryptoSuite::new(&master);
//! let cookie_key: [u8; 64] = master.session_cookie_key();
//! # let _ = (suite, cookie_key);
//! # Ok::<(), whisper_crypto::KeyError>(())
//! ```

pub mod cursors;
pub mod jwt;
pub mod keys;
pub mod links;
pub mod seal;
pub mod totp;

#[cfg(test)]
mod test_keys {
    /// A master key of 32 copies of `byte`: another byte, another key.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn master(byte: u8) -> crate::MasterKey {
        crate::MasterKey::new([byte; 32]).unwrap()
    }
}

pub use cursors::SignedCursors;
pub use jwt::JwtCodec;
pub use keys::{KeyError, MIN_MASTER_KEY_BYTES, MasterKey};
pub use links::SignedLinkTokens;
pub use seal::AeadSealer;
pub use totp::Rfc6238Totp;

/// Every crypto adapter, keyed from one master key.
#[derive(Debug, Clone)]
pub struct CryptoSuite {
    /// Signed one-time tokens for emailed links ([`whisper_domain::ports::LinkTokens`]).
    pub link_tokens: SignedLinkTokens,
    /// RFC 6238 TOTP ([`whisper_domain::ports::TotpAlgorithm`]).
    pub totp: Rfc6238Totp,
    /// HS256 session JWTs ([`whisper_domain::ports::TokenCodec`]).
    pub jwt: JwtCodec,
    /// XChaCha20-Poly1305 sealing of stored secrets ([`whisper_domain::ports::SecretSealer`]).
    pub sealer: AeadSealer,
    /// Signed history cursors ([`whisper_domain::ports::PageCursors`]).
    pub cursors: SignedCursors,
}

impl CryptoSuite {
    /// All adapters, each with its own subkey of `master`.
    pub fn new(master: &MasterKey) -> Self {
        Self {
            link_tokens: SignedLinkTokens::new(master),
            totp: Rfc6238Totp::new(),
            jwt: JwtCodec::new(master),
            sealer: AeadSealer::new(master),
            cursors: SignedCursors::new(master),
        }
    }
}
