//! Opaque history cursors: URL-safe base64 (no padding) of
//! `seq, the position in the room (8 bytes, big endian) || the first 16 bytes of
//! HMAC-SHA256(cursor key, the rest)`, so a changed cursor is refused instead of silently
//! pointing somewhere else. Cursors of the former (created, id) layout are longer, so they
//! are refused too.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use whisper_domain::MessageCursor;
use whisper_domain::ports::PageCursors;

use crate::keys::{CURSOR_LABEL, MasterKey};

const TAG_BYTES: usize = 16;
const SIGNED_BYTES: usize = 8;

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
        bytes.extend_from_slice(&cursor.seq.to_be_bytes());
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
        Some(MessageCursor {
            seq: u64::from_be_bytes(signed.try_into().ok()?),
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
    use super::*;
    use crate::test_keys::master;

    fn cursor() -> MessageCursor {
        MessageCursor { seq: 4_242 }
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
    fn a_cursor_of_the_former_layout_is_refused() {
        let codec = cursors(1);
        let mut former = vec![0_u8; 8 + 21];
        let tag = codec
            .mac
            .clone()
            .chain_update(&former)
            .finalize()
            .into_bytes();
        former.extend_from_slice(&tag[..TAG_BYTES]);
        assert_eq!(codec.decode(&URL_SAFE_NO_PAD.encode(former)), None);
    }

    #[test]
    fn a_cursor_from_another_key_is_refused() {
        let text = cursors(1).encode(&cursor());
        assert_eq!(cursors(2).decode(&text), None);
    }
}
