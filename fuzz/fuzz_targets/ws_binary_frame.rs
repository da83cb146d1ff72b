//! A WebSocket binary frame from a stranger (metadata, the delimiter, media bytes): never a
//! panic; accepted media is exactly what follows the first delimiter; a refusal carries one
//! of the codes API.md lists for binary frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whisper_ws::frames::{Command, DELIMITER, parse_binary};

fuzz_target!(|frame: &[u8]| {
    match parse_binary(frame) {
        Ok(Command::Media { bytes, .. }) => {
            let split = frame
                .windows(DELIMITER.len())
                .position(|window| window == DELIMITER)
                .unwrap_or_else(|| panic!("media accepted without a delimiter"));
            assert_eq!(bytes, &frame[split + DELIMITER.len()..]);
        }
        Ok(other) => panic!("a binary frame became {other:?}"),
        Err(error) => {
            assert!(
                matches!(
                    error.code,
                    "missing_delimiter"
                        | "invalid_json"
                        | "unknown_message_type"
                        | "invalid_reply"
                        | "invalid_media"
                ),
                "unexpected code {error:?}"
            );
            assert!(!error.content.is_empty());
        }
    }
});
