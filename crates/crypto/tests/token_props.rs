//! Property tests of everything the server signs and later reads back from strangers
//! (history cursors, session JWTs, emailed link tokens): the short, CI-sized runs of
//! `fuzz/fuzz_targets/{cursor,jwt,signed_link}.rs` (`PROPTEST_CASES` sets how many; 256
//! by default). Inputs are genuine tokens with flipped bytes, cut or extended base64,
//! swapped parts, unicode and huge strings, besides plain garbage.

#![allow(clippy::unwrap_used)] // test helpers fail loudly

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use proptest::prelude::*;
use whisper_crypto::{JwtCodec, MasterKey, SignedCursors, SignedLinkTokens};
use whisper_domain::ports::{LinkTokens, PageCursors, TokenCodec};
use whisper_domain::{MessageCursor, TokenClaims, TokenFamilyId, TokenId, TokenKind, UserId};

/// Seconds that chrono can always represent, either side of 1970 (about year 9999).
const SECONDS_RANGE: i64 = 253_402_300_799;

fn master(byte: u8) -> MasterKey {
    MasterKey::new([byte; 32]).unwrap()
}

/// An edit of a token: what a stranger might do to one they were given.
#[derive(Debug, Clone)]
enum Edit {
    /// One bit of the decoded bytes of the `part`-th dot-separated part flipped.
    FlipBit { part: usize, at: usize, bit: u8 },
    /// One character replaced.
    Replace { at: usize, with: char },
    /// Cut to this many characters.
    Truncate(usize),
    /// More text appended.
    Extend(String),
    /// The dot-separated parts in another order.
    SwapParts(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0_usize..3, any::<usize>(), 0_u8..8).prop_map(|(part, at, bit)| Edit::FlipBit {
            part,
            at,
            bit
        }),
        (
            any::<usize>(),
            prop_oneof![proptest::char::range('!', '~'), any::<char>()]
        )
            .prop_map(|(at, with)| Edit::Replace { at, with }),
        any::<usize>().prop_map(Edit::Truncate),
        prop_oneof!["[A-Za-z0-9_=.-]{1,8}", "\\PC{1,4}", Just("A".repeat(5000))]
            .prop_map(Edit::Extend),
        (0_usize..3, 0_usize..3).prop_map(|(a, b)| Edit::SwapParts(a, b)),
    ]
}

fn edited(token: &str, edit: &Edit) -> String {
    match edit {
        Edit::FlipBit { part, at, bit } => {
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            let index = part % parts.len();
            let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(&parts[index]) else {
                return token.to_owned();
            };
            if bytes.is_empty() {
                return token.to_owned();
            }
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            parts[index] = URL_SAFE_NO_PAD.encode(bytes);
            parts.join(".")
        }
        Edit::Replace { at, with } => {
            let mut chars: Vec<char> = token.chars().collect();
            let at = at % chars.len().max(1);
            if let Some(slot) = chars.get_mut(at) {
                *slot = *with;
            }
            chars.into_iter().collect()
        }
        Edit::Truncate(len) => token.chars().take(len % (token.len() + 1)).collect(),
        Edit::Extend(more) => format!("{token}{more}"),
        Edit::SwapParts(a, b) => {
            let mut parts: Vec<&str> = token.split('.').collect();
            let (a, b) = (a % parts.len(), b % parts.len());
            parts.swap(a, b);
            parts.join(".")
        }
    }
}

fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        "[A-Za-z0-9_-]{0,100}",
        "[A-Za-z0-9_-]{10,60}\\.[A-Za-z0-9_-]{10,200}\\.[A-Za-z0-9_-]{0,60}",
        Just("A".repeat(100_000)),
    ]
}

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{21}"
}

fn claims() -> impl Strategy<Value = TokenClaims> {
    (
        id(),
        id(),
        proptest::option::of(id()),
        -SECONDS_RANGE..SECONDS_RANGE,
        -SECONDS_RANGE..SECONDS_RANGE,
    )
        .prop_map(|(subject, jti, family, issued, expires)| TokenClaims {
            subject: UserId::parse(&subject).unwrap(),
            jti: TokenId::parse(&jti).unwrap(),
            kind: if family.is_some() {
                TokenKind::Refresh
            } else {
                TokenKind::Access
            },
            family: family.map(|family| TokenFamilyId::parse(&family).unwrap()),
            issued_at: DateTime::from_timestamp(issued, 0).unwrap(),
            expires_at: DateTime::from_timestamp(expires, 0).unwrap(),
        })
}

proptest! {
    #[test]
    fn every_cursor_round_trips_and_only_issued_text_is_accepted(
        seq in any::<u64>(),
        edit in edit(),
        text in garbage(),
    ) {
        let cursors = SignedCursors::new(&master(7));
        let cursor = MessageCursor { seq };
        let issued = cursors.encode(&cursor);
        prop_assert_eq!(cursors.decode(&issued), Some(cursor));
        let changed = edited(&issued, &edit);
        if changed != issued {
            prop_assert_eq!(cursors.decode(&changed), None, "{}", changed);
        }
        if let Some(found) = cursors.decode(&text) {
            prop_assert_eq!(cursors.encode(&found), text);
        }
        prop_assert_eq!(SignedCursors::new(&master(8)).decode(&issued), None);
    }

    #[test]
    fn a_session_token_is_accepted_only_as_the_signer_issued_it(
        claims in claims(),
        edits in proptest::collection::vec(edit(), 1..3),
        text in garbage(),
    ) {
        let codec = JwtCodec::new(&master(7));
        let Ok(issued) = codec.encode(&claims) else {
            // The one refusal: the decoder could never read such an expiry back.
            prop_assert!(claims.expires_at.timestamp() < 0, "signing failed: {:?}", claims);
            return Ok(());
        };
        prop_assert_eq!(codec.decode(&issued), Some(claims));
        let changed = edits.iter().fold(issued.clone(), |token, edit| edited(&token, edit));
        if changed != issued {
            prop_assert_eq!(codec.decode(&changed), None, "{}", changed);
        }
        prop_assert_eq!(codec.decode(&text), None);
        prop_assert_eq!(JwtCodec::new(&master(8)).decode(&issued), None);
    }

    #[test]
    fn a_link_token_is_accepted_only_as_the_signer_issued_it(
        user in id(),
        edit in edit(),
        text in garbage(),
    ) {
        let links = SignedLinkTokens::new(&master(7));
        let user = UserId::parse(&user).unwrap();
        let (issued, digest) = links.issue(&user);
        prop_assert_eq!(links.verify(&issued), Some((user, digest)));
        let changed = edited(&issued, &edit);
        if changed != issued {
            prop_assert_eq!(links.verify(&changed), None, "{}", changed);
        }
        prop_assert_eq!(links.verify(&text), None);
        prop_assert_eq!(SignedLinkTokens::new(&master(8)).verify(&issued), None);
    }
}
