//! Signed one-time tokens for emailed links (email verification).
//!
//! A token is URL-safe base64 (no padding) of
//! `user id (21 bytes) || 32 random bytes || HMAC-SHA256(link key, user id || random)`.
//! What is stored is the SHA-256 of the whole token bytes, so the database never holds a
//! usable token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use whisper_domain::id::ID_LENGTH;
use whisper_domain::ports::LinkTokens;
use whisper_domain::{SecretDigest, UserId};

use crate::keys::{LINK_TOKENS_LABEL, MasterKey};

const RANDOM_BYTES: usize = 32;
const MAC_BYTES: usize = 32;
const TOKEN_BYTES: usize = ID_LENGTH + RANDOM_BYTES + MAC_BYTES;
/// Length of a token as text: base64 of [`TOKEN_BYTES`] without padding.
const TOKEN_CHARS: usize = (TOKEN_BYTES * 4).div_ceil(3);

/// Issues and checks link tokens with an HMAC key derived from the master key.
#[derive(Clone)]
pub struct SignedLinkTokens {
    mac: Hmac<Sha256>,
}

impl SignedLinkTokens {
    /// Link tokens keyed by `master`'s "whisper/link-tokens" subkey.
    pub fn new(master: &MasterKey) -> Self {
        let key: [u8; 64] = master.derive(LINK_TOKENS_LABEL);
        Self {
            mac: Hmac::new(&key.into()),
        }
    }

    fn mac_of(&self, signed: &[u8]) -> Hmac<Sha256> {
        self.mac.clone().chain_update(signed)
    }
}

fn digest_of(token_bytes: &[u8]) -> SecretDigest {
    SecretDigest::from_bytes(Sha256::digest(token_bytes).into())
}

impl LinkTokens for SignedLinkTokens {
    fn issue(&self, user_id: &UserId) -> (String, SecretDigest) {
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(user_id.as_str().as_bytes());
        let mut random = [0u8; RANDOM_BYTES];
        rand::rng().fill(&mut random);
        bytes.extend_from_slice(&random);
        let tag = self.mac_of(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag);
        (URL_SAFE_NO_PAD.encode(&bytes), digest_of(&bytes))
    }

    fn verify(&self, token: &str) -> Option<(UserId, SecretDigest)> {
        if token.len() != TOKEN_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let (signed, tag) = bytes.split_at(ID_LENGTH + RANDOM_BYTES);
        self.mac_of(signed).verify_slice(tag).ok()?;
        let user_id = std::str::from_utf8(&signed[..ID_LENGTH]).ok()?;
        let user_id = UserId::parse(user_id).ok()?;
        Some((user_id, digest_of(&bytes)))
    }
}

impl std::fmt::Debug for SignedLinkTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedLinkTokens(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::master;

    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    fn tokens(byte: u8) -> SignedLinkTokens {
        SignedLinkTokens::new(&master(byte))
    }

    #[test]
    fn issued_token_verifies_to_its_user_and_digest() {
        let links = tokens(1);
        let user = UserId::generate();
        let (token, digest) = links.issue(&user);
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(token.chars().all(|c| ALPHABET.contains(c)));
        assert_eq!(links.verify(&token), Some((user, digest)));
    }

    #[test]
    fn token_with_any_character_changed_is_refused() {
        let links = tokens(1);
        let (token, _) = links.issue(&UserId::generate());
        for (i, original) in token.char_indices() {
            for replacement in ALPHABET.chars().filter(|&c| c != original) {
                let mut tampered = token.clone();
                tampered.replace_range(i..i + 1, &replacement.to_string());
                assert_eq!(
                    links.verify(&tampered),
                    None,
                    "position {i} -> {replacement}"
                );
            }
        }
    }

    #[test]
    fn token_with_any_byte_flipped_is_refused() {
        let links = tokens(1);
        let (token, _) = links.issue(&UserId::generate());
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            assert_eq!(links.verify(&URL_SAFE_NO_PAD.encode(&tampered)), None);
        }
    }

    #[test]
    fn token_for_another_user_with_the_same_mac_is_refused() {
        let links = tokens(1);
        let (token, _) = links.issue(&UserId::generate());
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let other = UserId::generate();
        bytes[..ID_LENGTH].copy_from_slice(other.as_str().as_bytes());
        assert_eq!(links.verify(&URL_SAFE_NO_PAD.encode(&bytes)), None);
    }

    #[test]
    fn truncated_or_extended_token_is_refused() {
        let links = tokens(1);
        let (token, _) = links.issue(&UserId::generate());
        for len in 0..token.len() {
            assert_eq!(links.verify(&token[..len]), None);
        }
        assert_eq!(links.verify(&format!("{token}A")), None);
        assert_eq!(links.verify(&format!("{token}==")), None);
    }

    #[test]
    fn token_signed_with_another_key_is_refused() {
        let (token, _) = tokens(1).issue(&UserId::generate());
        assert_eq!(tokens(2).verify(&token), None);
    }

    #[test]
    fn garbage_strings_are_refused() {
        let links = tokens(1);
        let garbage = [
            String::new(),
            "not-a-token".to_owned(),
            "A".repeat(TOKEN_CHARS),
            "!".repeat(TOKEN_CHARS),
            "é".repeat(TOKEN_CHARS / 2),
            " ".repeat(TOKEN_CHARS),
        ];
        for token in &garbage {
            assert_eq!(links.verify(token), None, "{token:?}");
        }
    }

    #[test]
    fn digest_differs_per_token_and_is_the_same_for_the_same_token() {
        let links = tokens(1);
        let user = UserId::generate();
        let (first, first_digest) = links.issue(&user);
        let (second, second_digest) = links.issue(&user);
        assert_ne!(first, second);
        assert_ne!(first_digest, second_digest);
        assert_eq!(
            links.verify(&first).map(|(_, d)| d),
            Some(first_digest.clone())
        );
        assert_eq!(links.verify(&first).map(|(_, d)| d), Some(first_digest));
        assert_eq!(links.verify(&second).map(|(_, d)| d), Some(second_digest));
    }

    #[test]
    fn digest_is_sha256_of_the_token_bytes_not_the_token() {
        let links = tokens(1);
        let (token, digest) = links.issue(&UserId::generate());
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(digest.as_bytes(), &expected);
        assert!(!token.as_bytes().windows(32).any(|w| w == digest.as_bytes()));
    }
}
