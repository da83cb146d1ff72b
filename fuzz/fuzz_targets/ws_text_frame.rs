//! A WebSocket text frame from a stranger: never a panic, and a refusal always carries one
//! of the codes API.md lists for text frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whisper_ws::frames::{Command, parse_text};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = std::str::from_utf8(data) else {
        return;
    };
    match parse_text(frame) {
        Ok(Command::Text { .. } | Command::Typing(_)) => {}
        Ok(other) => panic!("a text frame became {other:?}"),
        Err(error) => {
            assert!(
                matches!(
                    error.code,
                    "invalid_json" | "unknown_message_type" | "invalid_reply"
                ),
                "unexpected code {error:?}"
            );
            assert!(!error.content.is_empty());
        }
    }
});
