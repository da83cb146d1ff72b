//! A history cursor from a stranger: never a panic; a cursor is accepted only as the exact
//! text the server would have issued for it; and every position round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whisper_crypto::SignedCursors;
use whisper_domain::MessageCursor;
use whisper_domain::ports::PageCursors;
use whisper_fuzz::{Input, master_key, tampered};

fuzz_target!(|data: &[u8]| {
    let cursors = SignedCursors::new(&master_key());
    let mut input = Input::new(data);
    match input.byte() % 2 {
        // Any text at all.
        0 => {
            let text = String::from_utf8_lossy(input.rest());
            if let Some(cursor) = cursors.decode(&text) {
                assert_eq!(
                    cursors.encode(&cursor),
                    text,
                    "accepted a cursor never issued"
                );
            }
        }
        // A genuine cursor, then edited.
        _ => {
            let cursor = MessageCursor { seq: input.u64() };
            let issued = cursors.encode(&cursor);
            assert_eq!(cursors.decode(&issued), Some(cursor));
            let edited = tampered(&issued, input.rest());
            if edited != issued {
                assert_eq!(cursors.decode(&edited), None, "accepted {edited:?}");
            }
        }
    }
});
