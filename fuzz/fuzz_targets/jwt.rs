//! Access and refresh tokens from strangers, verified with a fixed key: never a panic; any
//! text the signer did not produce is refused; a genuine token with any edit is refused;
//! every genuine token reads back as its claims.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use whisper_crypto::JwtCodec;
use whisper_domain::ports::TokenCodec;
use whisper_domain::{TokenClaims, TokenFamilyId, TokenId, TokenKind, UserId};
use whisper_fuzz::{Input, master_key, tampered};

/// Seconds that chrono can always represent, either side of 1970 (about year 9999).
const SECONDS_RANGE: i64 = 253_402_300_799;

fn claims(input: &mut Input<'_>) -> Option<TokenClaims> {
    let refresh = input.byte() % 2 == 1;
    let at = |raw: u64| DateTime::from_timestamp(raw.cast_signed() % SECONDS_RANGE, 0);
    Some(TokenClaims {
        subject: UserId::parse(&input.id()).ok()?,
        jti: TokenId::parse(&input.id()).ok()?,
        kind: if refresh {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        },
        family: if refresh {
            Some(TokenFamilyId::parse(&input.id()).ok()?)
        } else {
            None
        },
        issued_at: at(input.u64())?,
        expires_at: at(input.u64())?,
    })
}

fuzz_target!(|data: &[u8]| {
    let codec = JwtCodec::new(&master_key());
    let mut input = Input::new(data);
    match input.byte() % 2 {
        0 => {
            let text = String::from_utf8_lossy(input.rest());
            assert_eq!(codec.decode(&text), None, "accepted a token never signed");
        }
        _ => {
            let Some(claims) = claims(&mut input) else {
                return;
            };
            let Ok(issued) = codec.encode(&claims) else {
                // The one refusal: the decoder could never read such an expiry back.
                assert!(
                    claims.expires_at.timestamp() < 0,
                    "signing {claims:?} failed"
                );
                return;
            };
            assert_eq!(codec.decode(&issued), Some(claims));
            let edited = tampered(&issued, input.rest());
            if edited != issued {
                assert_eq!(codec.decode(&edited), None, "accepted {edited:?}");
            }
        }
    }
});
