//! Property tests of media sniffing against strangers' uploads: the short, CI-sized runs of
//! `fuzz/fuzz_targets/media_sniff.rs` (`PROPTEST_CASES` sets how many; 256 by default).
//! Uploads start with a real signature (or a broken one) and go on with anything.

use proptest::prelude::*;
use whisper_domain::MediaKind;
use whisper_domain::media_kinds::sniff;

/// No signature looks further than this.
const SIGNATURE_BYTES: usize = 12;

/// The first bytes of each format we recognise.
const SIGNATURES: [&[u8]; 14] = [
    b"\x89PNG\r\n\x1a\n",
    &[0xFF, 0xD8, 0xFF],
    b"GIF87a",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBP",
    b"RIFF\x10\0\0\0WAVE",
    b"ID3",
    &[0xFF, 0xFB],
    b"OggS",
    b"fLaC",
    &[0x1A, 0x45, 0xDF, 0xA3],
    b"\0\0\0\x20ftypM4A ",
    b"\0\0\0\x14ftypqt  ",
    b"\0\0\0\x20ftypisom",
];

fn kind() -> impl Strategy<Value = MediaKind> {
    prop_oneof![
        Just(MediaKind::Image),
        Just(MediaKind::Audio),
        Just(MediaKind::Video)
    ]
}

/// A signature, perhaps cut short or with one byte changed, then any tail.
fn upload() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(SIGNATURES.to_vec()),
        0_usize..=SIGNATURE_BYTES,
        proptest::option::of((any::<usize>(), any::<u8>())),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(signature, keep, change, tail)| {
            let mut bytes = signature[..keep.min(signature.len())].to_vec();
            if let Some((at, byte)) = change
                && !bytes.is_empty()
            {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            bytes.extend(tail);
            bytes
        })
}

proptest! {
    #[test]
    fn a_sniffed_type_is_of_the_declared_kind_and_only_the_first_bytes_decide(
        kind in kind(),
        bytes in prop_oneof![upload(), proptest::collection::vec(any::<u8>(), 0..40)],
        more in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let verdict = sniff(kind, &bytes);
        if let Some(content_type) = verdict {
            prop_assert!(content_type.starts_with(&format!("{}/", kind.as_str())), "{content_type}");
        }
        if bytes.len() >= SIGNATURE_BYTES {
            let mut longer = bytes.clone();
            longer.extend(more);
            prop_assert_eq!(sniff(kind, &longer), verdict);
            prop_assert_eq!(sniff(kind, &bytes[..SIGNATURE_BYTES]), verdict);
        }
    }

    #[test]
    fn an_intact_signature_is_recognised_as_exactly_one_kind_or_none(
        signature in proptest::sample::select(SIGNATURES.to_vec()),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = signature.to_vec();
        bytes.extend(tail);
        let kinds = [MediaKind::Image, MediaKind::Audio, MediaKind::Video];
        let recognised: Vec<_> = kinds.iter().filter_map(|&kind| sniff(kind, &bytes)).collect();
        // WebM (Matroska) is both audio and video; everything else is one kind.
        prop_assert!(!recognised.is_empty() && recognised.len() <= 2, "{recognised:?}");
    }
}
