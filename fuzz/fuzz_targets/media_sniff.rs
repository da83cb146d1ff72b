//! Media type sniffing of a stranger's upload: never a panic; a recognised type is of the
//! declared kind; only the first bytes decide, so more bytes never change the verdict.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whisper_domain::MediaKind;
use whisper_domain::media_kinds::sniff;

/// No signature looks further than this.
const SIGNATURE_BYTES: usize = 12;

fuzz_target!(|bytes: &[u8]| {
    for kind in [MediaKind::Image, MediaKind::Audio, MediaKind::Video] {
        let verdict = sniff(kind, bytes);
        if let Some(content_type) = verdict {
            assert!(
                content_type.starts_with(&format!("{}/", kind.as_str())),
                "{kind:?} sniffed as {content_type}"
            );
        }
        if bytes.len() > SIGNATURE_BYTES {
            assert_eq!(sniff(kind, &bytes[..SIGNATURE_BYTES]), verdict);
        }
    }
});
