//! Emailed link tokens (email verification) from strangers: never a panic; any text the
//! signer did not issue is refused; a genuine token with any edit is refused; a genuine
//! token verifies to its user and digest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whisper_crypto::SignedLinkTokens;
use whisper_domain::UserId;
use whisper_domain::ports::LinkTokens;
use whisper_fuzz::{Input, master_key, tampered};

fuzz_target!(|data: &[u8]| {
    let links = SignedLinkTokens::new(&master_key());
    let mut input = Input::new(data);
    match input.byte() % 2 {
        0 => {
            let text = String::from_utf8_lossy(input.rest());
            assert_eq!(links.verify(&text), None, "accepted a link never issued");
        }
        _ => {
            let Ok(user) = UserId::parse(&input.id()) else {
                return;
            };
            let (issued, digest) = links.issue(&user);
            assert_eq!(links.verify(&issued), Some((user, digest)));
            let edited = tampered(&issued, input.rest());
            if edited != issued {
                assert_eq!(links.verify(&edited), None, "accepted {edited:?}");
            }
        }
    }
});
