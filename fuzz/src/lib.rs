//! What the fuzz targets share: structured values read out of the fuzzer's bytes, so a
//! target can start from something valid (a signed token, a sealed cookie) and then break
//! it, instead of hoping random bytes reach past the first check.

use whisper_crypto::MasterKey;

/// The characters of a Whisper id.
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The fuzzer's bytes, consumed from the front; zeros once they run out.
pub struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    /// Reads from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    /// The next byte.
    pub fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// The next eight bytes, big endian.
    pub fn u64(&mut self) -> u64 {
        let mut word = [0u8; 8];
        let bytes = self.take(8);
        word[..bytes.len()].copy_from_slice(bytes);
        u64::from_be_bytes(word)
    }

    /// Up to `count` next bytes.
    pub fn take(&mut self, count: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(count.min(self.0.len()));
        self.0 = tail;
        head
    }

    /// Whatever is left.
    pub fn rest(self) -> &'a [u8] {
        self.0
    }

    /// A well-formed Whisper id (21 id characters) made of the next 21 bytes.
    pub fn id(&mut self) -> String {
        (0..whisper_domain::id::ID_LENGTH)
            .map(|_| char::from(ID_ALPHABET[usize::from(self.byte() % 64)]))
            .collect()
    }
}

/// `text` edited as `edits` says, four bytes an edit (operation, position as two bytes, value):
/// replace, insert or delete a byte, or cut the text there. The positions wrap, so every
/// edit lands.
pub fn tampered(text: &str, edits: &[u8]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits.chunks_exact(4) {
        let (operation, value) = (edit[0], edit[3]);
        let position = usize::from(u16::from_be_bytes([edit[1], edit[2]])) % (bytes.len() + 1);
        match operation % 4 {
            0 if position < bytes.len() => bytes[position] = value,
            1 => bytes.insert(position, value),
            2 if position < bytes.len() => {
                bytes.remove(position);
            }
            3 => bytes.truncate(position),
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The fixed master key every target signs with.
pub fn master_key() -> MasterKey {
    match MasterKey::new([7u8; 32]) {
        Ok(key) => key,
        Err(error) => panic!("a 32-byte master key is long enough: {error}"),
    }
}
