//! Opaque history cursors: URL-safe base64 (no padding) of
//! `created, microseconds since the epoch (8 bytes, big endian) || message id (21 bytes) ||
//! the first 16 bytes of HMAC-SHA256(cursor key, the rest)`, so a changed cursor is refused
//! instead of silently pointing somewhere else.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use whisper_domain::id::ID_LENGTH;
use whisper_domain::ports::PageCursors;
use whisper_domain::{MessageCursor, MessageId};

use crate::keys::{CURSOR_LABEL, MasterKey};

const TAG_BYTES: usize = 16;
const SIGNED_BYTES: usize = 8 + ID_LENGTH;

/// Signs and checks page cursors with a key derived from the master key.
#[derive(Clone)]
pub struct SignedCursors {
    mac: Hmac<Sha256>,
}

impl SignedCursors {
    /// Cursors keyed by `master`'s "whisper/page-cursors" subkey.
    pub fn new(master: &MasterKey) -> Self {
        let key: [u8; 64] = master.derive(CURSOR_LABEL);
        Self {
            mac: Hmac::new(&key.into()),
        }
    }
}

impl PageCursors for SignedCursors {
    fn encode(&self, cursor: &MessageCursor) -> String {
        let mut bytes = Vec::with_capacity(SIGNED_BYTES + TAG_BYTES);
        bytes.extend_from_slice(&cursor.created.timestamp_micros().to_be_bytes());
        bytes.extend_from_slice(cursor.id.as_str().as_bytes());
        let tag = self
            .mac
            .clone()
            .chain_update(&bytes)
            .finalize()
            .into_bytes();
        bytes.extend_from_slice(&tag[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn decode(&self, text: &str) -> Option<MessageCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        if bytes.len() != SIGNED_BYTES + TAG_BYTES {
            return None;
        }
        let (signed, tag) = bytes.split_at(SIGNED_BYTES);
        self.mac
            .clone()
            .chain_update(signed)
            .verify_truncated_left(tag)
            .ok()?;
        let (micros, id) = signed.split_at(8);
        let micros = i64::from_be_bytes(micros.try_into().ok()?);
        Some(MessageCursor {
            created: DateTime::from_timestamp_micros(micros)?,
            id: MessageId::parse(std::str::from_utf8(id).ok()?).ok()?,
        })
    }
}

impl std::fmt::Debug for SignedCursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedCursors(..)")
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::test_keys::master;

    fn cursor() -> MessageCursor {
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        MessageCursor {
            created: now,
            id: MessageId::generate(),
        }
    }

    fn cursors(byte: u8) -> SignedCursors {
        SignedCursors::new(&master(byte))
    }

    #[test]
    fn a_cursor_round_trips_through_its_text() {
        let (codec, position) = (cursors(1), cursor());
        let text = codec.encode(&position);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(codec.decode(&text), Some(position));
    }

    #[test]
    fn any_change_to_a_cursor_is_refused() {
        let codec = cursors(1);
        let text = codec.encode(&cursor());
        for index in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert_eq!(codec.decode(&tampered), None, "changed at {index}");
        }
        assert_eq!(codec.decode(""), None);
        assert_eq!(codec.decode("not a cursor!"), None);
        assert_eq!(codec.decode(&text[..text.len() - 1]), None);
    }

    #[test]
    fn a_cursor_from_another_key_is_refused() {
        let text = cursors(1).encode(&cursor());
        assert_eq!(cursors(2).decode(&text), None);
    }
}
