//! Media over the WebSocket: binary frames (`json + <delimiter> + bytes`), checked by kind
//! and size, stored, broadcast with a `media_url` that serves the same bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use whisper_e2e::chat::{ada_and_bob_in_general, ada_in_general, chat_app};
use whisper_e2e::ws::{PROMPTLY, WsClient, png, png_of_size, wav, ws_app};
use whisper_postgres::testing::TestDatabase;

/// The next event that is not presence or typing: it must be `chat.error` `code`.
async fn expect_error(ws: &mut WsClient, code: &str, case: &str) {
    loop {
        let event = ws.next_event(PROMPTLY).await;
        match event["type"].as_str() {
            Some("chat.active" | "chat.typing") => {}
            Some("chat.error") => {
                assert_eq!(event["code"], code, "case {case}: {event}");
                return;
            }
            _ => panic!("case {case}: expected chat.error {code}, got {event}"),
        }
    }
}

#[tokio::test]
async fn an_image_round_trips_to_every_member_and_replies_name_the_media_kind() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;

    let picture = png(64, 64);
    ada_ws
        .send_binary(
            &json!({"message_type": "media", "media_format": "image"}),
            &picture,
        )
        .await;
    let own = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    let theirs = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(own["id"], theirs["id"]);
    assert_eq!(theirs["message_format"], "image");
    assert_eq!(theirs["media_content_type"], "image/png");
    assert_eq!(theirs["media_size"], picture.len());
    assert_eq!(theirs["is_reply"], false);
    assert_eq!(theirs["sender"], ada.id.as_str());
    let media_url = theirs["media_url"]
        .as_str()
        .expect("a media_url")
        .to_owned();
    let download = app.media(&bob.access, &media_url).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().as_ref(), picture.as_slice());

    // A media reply, with `message_format` as the alias of `media_format`.
    let sound = wav(4000);
    bob_ws
        .send_binary(
            &json!({"message_type": "reply", "previous_message_id": own["id"], "message_format": "audio"}),
            &sound,
        )
        .await;
    let reply = ada_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(reply["message_format"], "audio");
    assert_eq!(reply["is_reply"], true);
    assert_eq!(reply["previous_message_id"], own["id"]);
    assert_eq!(reply["previous_message_content"], "IMAGE");
    assert_eq!(reply["previous_sender"], ada.id.as_str());
    assert_eq!(reply["media_size"], sound.len());
    assert!(
        reply["media_content_type"]
            .as_str()
            .is_some_and(|t| t.starts_with("audio/")),
        "{reply}"
    );
    let download = app
        .media(&ada.access, reply["media_url"].as_str().unwrap())
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().as_ref(), sound.as_slice());

    // A text reply to the audio.
    ada_ws
        .send_json(&json!({"message_type": "reply", "message": "nice", "previous_message_id": reply["id"]}))
        .await;
    let text_reply = bob_ws.messages(2, PROMPTLY).await.pop().unwrap();
    assert_eq!(text_reply["text_content"], "nice");
    assert_eq!(text_reply["previous_message_content"], "AUDIO");

    let stored = app.all_messages(&bob.access, room_id).await;
    let formats: Vec<_> = stored.iter().map(|m| m["message_format"].clone()).collect();
    assert_eq!(formats, [json!("image"), json!("audio"), json!("text")]);
}

#[tokio::test]
async fn media_of_the_wrong_kind_or_an_unknown_format_is_refused() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, room_id) = ada_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let mut ws = app.ws(&ada.access, room_id).await;

    let picture = png(8, 8);
    let cases = [
        ("a PNG as audio", "audio", picture.clone()),
        ("a PNG as video", "video", picture.clone()),
        ("a WAV as image", "image", wav(100)),
        (
            "text as image",
            "image",
            b"definitely not a picture".to_vec(),
        ),
        ("no bytes as image", "image", Vec::new()),
        ("an unknown format", "document", picture.clone()),
    ];
    for (case, format, bytes) in cases {
        ws.send_binary(
            &json!({"message_type": "media", "media_format": format}),
            &bytes,
        )
        .await;
        expect_error(&mut ws, "invalid_media", case).await;
    }
    ws.send_binary(
        &json!({"message_type": "media", "media_format": "image"}),
        &picture,
    )
    .await;
    let stored = ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(stored["message_format"], "image");
    assert_eq!(app.all_messages(&ada.access, room_id).await.len(), 1);
}

#[tokio::test]
async fn media_over_the_limit_is_refused_and_media_at_the_limit_is_stored() {
    const LIMIT: usize = 4096;
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) =
        ws_app(&db.url, &format!("media_max_bytes = {LIMIT}"), false).await;
    let (ada, room_id) = ada_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let mut ws = app.ws(&ada.access, room_id).await;
    let image = json!({"message_type": "media", "media_format": "image"});

    ws.send_binary(&image, &png_of_size(LIMIT + 1)).await;
    expect_error(&mut ws, "media_too_large", "one byte over").await;
    ws.send_binary_fragmented(&image, &png_of_size(LIMIT + 1), 1000)
        .await;
    expect_error(&mut ws, "media_too_large", "one byte over, fragmented").await;
    ws.send_binary(&image, &png_of_size(5 * LIMIT)).await;
    expect_error(&mut ws, "media_too_large", "five times the limit").await;

    let at_limit = png_of_size(LIMIT);
    ws.send_binary(&image, &at_limit).await;
    let stored = ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(stored["media_size"], LIMIT);
    let download = app
        .media(&ada.access, stored["media_url"].as_str().unwrap())
        .await;
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        at_limit.as_slice()
    );
    assert_eq!(app.all_messages(&ada.access, room_id).await.len(), 1);
}

#[tokio::test]
async fn media_larger_than_64_kib_arrives_in_continuation_frames_up_to_the_limit() {
    const LIMIT: usize = 1 << 20;
    let db = TestDatabase::create().await;
    let (mut app, sink, _config) =
        ws_app(&db.url, &format!("media_max_bytes = {LIMIT}"), false).await;
    let (ada, bob, room_id) = ada_and_bob_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let (mut ada_ws, mut bob_ws) = app.two_sockets(&ada.access, &bob.access, room_id).await;
    let image = json!({"message_type": "media", "media_format": "image"});

    // A real noise PNG (about 256 KiB) padded to exactly the limit, in 16 KiB frames.
    let mut big = png(256, 256);
    assert!(big.len() > 64 * 1024);
    big.resize(LIMIT, 0);
    ada_ws.send_binary_fragmented(&image, &big, 16 * 1024).await;
    let event = bob_ws
        .next_of_type("chat.message", Duration::from_secs(60))
        .await;
    assert_eq!(event["media_size"], LIMIT);
    let download = app
        .media(&bob.access, event["media_url"].as_str().unwrap())
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.bytes().await.unwrap().as_ref() == big.as_slice());

    // The same size in one frame works too; one byte more in fragments does not.
    ada_ws.send_binary(&image, &big).await;
    let event = bob_ws
        .next_of_type("chat.message", Duration::from_secs(60))
        .await;
    assert_eq!(event["media_size"], LIMIT);
    // ada's own copies of both.
    let own = ada_ws.messages(2, Duration::from_secs(60)).await;
    assert!(own.iter().all(|m| m["media_size"] == LIMIT), "{own:?}");
    big.push(0);
    ada_ws.send_binary_fragmented(&image, &big, 16 * 1024).await;
    expect_error(&mut ada_ws, "media_too_large", "one byte over, fragmented").await;
    ada_ws.send_message("still here").await;
    let event = bob_ws.next_of_type("chat.message", PROMPTLY).await;
    assert_eq!(event["text_content"], "still here");
}

#[tokio::test]
async fn media_of_the_default_limit_arrives_in_continuation_frames() {
    const DEFAULT_LIMIT: usize = 16 * 1024 * 1024;
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, room_id) = ada_in_general(&mut app, &sink).await;
    let room_id = room_id.as_str();
    let mut ws = app.ws(&ada.access, room_id).await;
    let mut big = png(256, 256);
    big.resize(DEFAULT_LIMIT, 0);
    ws.send_binary_fragmented(
        &json!({"message_type": "media", "media_format": "image"}),
        &big,
        64 * 1024,
    )
    .await;
    let event = ws
        .next_of_type("chat.message", Duration::from_secs(120))
        .await;
    assert_eq!(event["media_size"], DEFAULT_LIMIT);
    let download = app
        .media(&ada.access, event["media_url"].as_str().unwrap())
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    let bytes = download.bytes().await.unwrap();
    assert_eq!(bytes.len(), DEFAULT_LIMIT);
    assert!(bytes.as_ref() == big.as_slice());
}
