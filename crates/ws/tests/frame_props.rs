//! Property tests of the frame codec against strangers' frames: the short, CI-sized runs of
//! `fuzz/fuzz_targets/ws_*_frame.rs` (`PROPTEST_CASES` sets how many; 256 by default).
//! Frames are near-valid: the shapes of API.md with fields of the wrong type, missing or
//! extra, unicode, huge strings, truncated or with a byte spliced in.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use whisper_ws::frames::{Command, DELIMITER, FrameError, parse_binary, parse_text};

const TEXT_CODES: [&str; 3] = ["invalid_json", "unknown_message_type", "invalid_reply"];
const BINARY_CODES: [&str; 5] = [
    "missing_delimiter",
    "invalid_json",
    "unknown_message_type",
    "invalid_reply",
    "invalid_media",
];

fn message_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{21}"
}

/// A value for a field: usually a plausible string, sometimes anything but.
fn field(
    plausible: impl Strategy<Value = String> + 'static,
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => plausible.prop_map(|text| Some(Value::String(text))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => any::<i64>().prop_map(|n| Some(json!(n))),
        1 => any::<bool>().prop_map(|b| Some(json!(b))),
        1 => Just(Some(json!(["a", 1]))),
        1 => Just(Some(json!({"nested": "object"}))),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "\\PC{0,40}",
        Just("typing".to_owned()),
        Just("not_typing".to_owned()),
        (1_usize..70_000).prop_map(|len| "x".repeat(len)),
    ]
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Map<String, Value> {
    fields
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
        .collect()
}

fn text_frame() -> impl Strategy<Value = Map<String, Value>> {
    let kind = prop_oneof![
        Just("message".to_owned()),
        Just("reply".to_owned()),
        Just("typing".to_owned()),
        "[a-z]{0,10}",
    ];
    (
        field(kind),
        field(text()),
        field(prop_oneof![message_id(), ".{0,30}"]),
        field(".{0,80}"),
    )
        .prop_map(|(kind, message, reply, client)| {
            object(vec![
                ("message_type", kind),
                ("message", message),
                ("previous_message_id", reply),
                ("client_id", client),
            ])
        })
}

fn media_meta() -> impl Strategy<Value = Map<String, Value>> {
    let kind = prop_oneof![
        Just("media".to_owned()),
        Just("reply".to_owned()),
        "[a-z]{0,10}",
    ];
    let format = prop_oneof![
        Just("image".to_owned()),
        Just("audio".to_owned()),
        Just("video".to_owned()),
        "[a-z]{0,10}",
    ];
    (
        field(kind),
        field(format),
        any::<bool>(),
        field(prop_oneof![message_id(), ".{0,30}"]),
        field(".{0,80}"),
    )
        .prop_map(|(kind, format, legacy_name, reply, client)| {
            let format_name = if legacy_name {
                "message_format"
            } else {
                "media_format"
            };
            object(vec![
                ("message_type", kind),
                (format_name, format),
                ("previous_message_id", reply),
                ("client_id", client),
            ])
        })
}

/// `bytes` cut at `cut` (past the end: whole) with `splice` inserted at `at`.
fn mangled(mut bytes: Vec<u8>, cut: usize, splice: Option<(usize, u8)>) -> Vec<u8> {
    bytes.truncate(cut);
    if let Some((at, byte)) = splice {
        let at = at % (bytes.len() + 1);
        bytes.insert(at, byte);
    }
    bytes
}

/// Metadata of a media upload that is not a reply, in one of the three formats.
fn plain_upload(meta: &Map<String, Value>) -> bool {
    let format = meta
        .get("media_format")
        .or_else(|| meta.get("message_format"));
    meta.get("message_type") == Some(&json!("media"))
        && matches!(format, Some(Value::String(f)) if ["image", "audio", "video"].contains(&f.as_str()))
        && meta.get("previous_message_id").is_none()
        && matches!(meta.get("client_id"), None | Some(Value::String(_)))
}

fn assert_refused_with(error: &FrameError, codes: &[&str]) {
    assert!(codes.contains(&error.code), "unexpected {error:?}");
    assert!(!error.content.is_empty());
}

proptest! {
    #[test]
    fn text_frames_read_as_commands_or_refusals_with_stable_codes(
        frame in text_frame(),
        cut in prop_oneof![Just(usize::MAX), 0_usize..200],
        splice in proptest::option::of((any::<usize>(), any::<u8>())),
    ) {
        let well_formed = serde_json::to_string(&frame).unwrap_or_default();
        let bytes = mangled(well_formed.clone().into_bytes(), cut, splice);
        let raw = String::from_utf8_lossy(&bytes);
        match parse_text(&raw) {
            Ok(Command::Text { .. } | Command::Typing(_)) => {}
            Ok(other) => prop_assert!(false, "a text frame became {other:?}"),
            Err(error) => assert_refused_with(&error, &TEXT_CODES),
        }
        // An unmangled plain message is always accepted, whatever its text.
        if let (Some(Value::String(kind)), Some(Value::String(message))) =
            (frame.get("message_type"), frame.get("message"))
        {
            let client_ok = matches!(frame.get("client_id"), None | Some(Value::String(_)));
            let reply_ok = matches!(frame.get("previous_message_id"), None | Some(Value::String(_)));
            if kind == "message" && client_ok && reply_ok {
                prop_assert_eq!(
                    parse_text(&well_formed).map(|command| match command {
                        Command::Text { text, .. } => text,
                        _ => String::new(),
                    }),
                    Ok(message.clone())
                );
            }
        }
    }

    #[test]
    fn binary_frames_keep_every_byte_after_the_first_delimiter(
        meta in media_meta(),
        media in proptest::collection::vec(any::<u8>(), 0..512),
        delimiters in 0_usize..3,
        cut in prop_oneof![Just(usize::MAX), 0_usize..120],
        splice in proptest::option::of((any::<usize>(), any::<u8>())),
    ) {
        let json = serde_json::to_vec(&meta).unwrap_or_default();
        let intact = cut == usize::MAX && splice.is_none();
        let meta_bytes = mangled(json, cut, splice);
        let mut frame = meta_bytes.clone();
        let mut body = Vec::new();
        for _ in 1..delimiters {
            body.extend_from_slice(&media);
            body.extend_from_slice(DELIMITER);
        }
        body.extend_from_slice(&media);
        if delimiters > 0 {
            frame.extend_from_slice(DELIMITER);
        }
        frame.extend_from_slice(&body);
        match parse_binary(&frame) {
            Ok(Command::Media { bytes, .. }) => {
                let split = frame
                    .windows(DELIMITER.len())
                    .position(|window| window == DELIMITER);
                prop_assert!(split.is_some(), "media accepted without a delimiter");
                let start = split.unwrap_or_default() + DELIMITER.len();
                prop_assert_eq!(&bytes, &frame[start..]);
            }
            Ok(other) => prop_assert!(false, "a binary frame became {other:?}"),
            Err(error) => {
                assert_refused_with(&error, &BINARY_CODES);
                prop_assert!(!(intact && delimiters > 0 && plain_upload(&meta)), "{error:?}");
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_codec(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Err(error) = parse_binary(&bytes) {
            assert_refused_with(&error, &BINARY_CODES);
        }
        if let Err(error) = parse_text(&String::from_utf8_lossy(&bytes)) {
            assert_refused_with(&error, &TEXT_CODES);
        }
    }
}
