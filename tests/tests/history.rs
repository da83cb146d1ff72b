//! History over REST: keyset pagination, the room page, media downloads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use whisper_domain::ports::MediaStore;
use whisper_domain::{
    MediaKey, MediaKind, MediaRef, MessageContent, MessageId, MessageText, NewMessage, RoomId,
    UserId,
};
use whisper_e2e::chat::{chat_app, people};
use whisper_local::FsMediaStore;
use whisper_postgres::PgMessages;
use whisper_postgres::testing::{TestDatabase, insert_message};

fn text(room: &RoomId, sender: &UserId, body: &str, created: DateTime<Utc>) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        room: room.clone(),
        sender: sender.clone(),
        content: MessageContent::Text(MessageText::parse(body).unwrap()),
        reply_to: None,
        created,
        client_id: None,
    }
}

fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap()
}

#[tokio::test]
async fn walking_a_thousand_messages_yields_each_once_newest_first_while_others_arrive() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada] = <[_; 1]>::try_from(people(&mut app, &sink, &["ada"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "busy", &[]).await;
    let room_id = RoomId::parse(room["id"].as_str().unwrap()).unwrap();
    let sender = UserId::parse(&ada.id).unwrap();
    let messages = PgMessages::new(db.database.clone());

    // 1,000 messages in runs of 25 sharing one timestamp: order is seq, not time.
    let start = micros(Utc::now() - Duration::hours(1));
    let mut expected = HashSet::new();
    for i in 0..1000 {
        let created = start + Duration::milliseconds(i / 25);
        let stored = insert_message(
            &messages,
            &text(&room_id, &sender, &format!("m{i}"), created),
        )
        .await
        .unwrap();
        expected.insert(stored.id.to_string());
    }

    let first = app
        .history(&ada.access, room_id.as_str(), "?page_size=37")
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let mut page: Value = first.json().await.unwrap();

    // Others keep writing while the walk goes on.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (writing, messages, room_id, sender) = (
            writing.clone(),
            messages.clone(),
            room_id.clone(),
            sender.clone(),
        );
        tokio::spawn(async move {
            let mut written = 0;
            while writing.load(Ordering::Relaxed) {
                insert_message(&messages, &text(&room_id, &sender, "late", Utc::now()))
                    .await
                    .unwrap();
                written += 1;
                tokio::task::yield_now().await;
            }
            written
        })
    };

    let mut seen: Vec<Value> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let results = page["results"].as_array().unwrap();
        assert!(results.len() <= 37);
        seen.extend(results.iter().cloned());
        let Some(older) = page["previous_messages"].as_str() else {
            break;
        };
        assert!(
            older.starts_with("http://127.0.0.1:8000/api/v1/chat/home/"),
            "{older}"
        );
        assert!(older.contains("page_size=37"), "{older}");
        let query = &older[older.find('?').unwrap()..];
        let response = app.history(&ada.access, room_id.as_str(), query).await;
        assert_eq!(response.status(), StatusCode::OK);
        page = response.json().await.unwrap();
    }
    writing.store(false, Ordering::Relaxed);
    assert!(
        writer.await.unwrap() > 0,
        "messages kept arriving during the walk"
    );

    assert_eq!(pages, 28);
    let ids: Vec<String> = seen
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1000, "every message once");
    assert_eq!(
        ids.iter().cloned().collect::<HashSet<_>>(),
        expected,
        "no gaps, no strays"
    );
    let seqs: Vec<u64> = seen.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=1000).rev().collect::<Vec<u64>>(),
        "newest first, consecutive seqs"
    );
    let last = seen.last().unwrap();
    assert_eq!(
        last["text_content"], "m0",
        "the first message stored is seq 1"
    );
    assert_eq!(last["message_format"], "text");
    assert!(last["username"].as_str().unwrap().len() >= 3);
    assert_eq!(last["room"], room_id.as_str());
}

#[tokio::test]
async fn a_tampered_cursor_is_refused() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada] = <[_; 1]>::try_from(people(&mut app, &sink, &["ada"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "room", &[]).await;
    let room_id = RoomId::parse(room["id"].as_str().unwrap()).unwrap();
    let messages = PgMessages::new(db.database.clone());
    let sender = UserId::parse(&ada.id).unwrap();
    for i in 0..3 {
        insert_message(
            &messages,
            &text(&room_id, &sender, &format!("m{i}"), Utc::now()),
        )
        .await
        .unwrap();
    }
    let page: Value = app
        .history(&ada.access, room_id.as_str(), "?page_size=1")
        .await
        .json()
        .await
        .unwrap();
    let older = page["previous_messages"].as_str().unwrap();
    let cursor = older
        .split("cursor=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let mut tampered = cursor.to_owned().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "garbage", "AAAA"] {
        let response = app
            .history(&ada.access, room_id.as_str(), &format!("?cursor={bad}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert!(body["fields"]["cursor"].is_array(), "{body}");
    }
    let genuine = app
        .history(
            &ada.access,
            room_id.as_str(),
            &format!("?cursor={cursor}&page_size=1"),
        )
        .await;
    assert_eq!(genuine.status(), StatusCode::OK);
}

#[tokio::test]
async fn browsers_get_the_room_page_with_their_session_cookie() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [bob, ada] = <[_; 2]>::try_from(people(&mut app, &sink, &["bob", "ada"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "Tea <room>", &[&bob]).await;
    let room_id = RoomId::parse(room["id"].as_str().unwrap()).unwrap();
    let messages = PgMessages::new(db.database.clone());
    let start = micros(Utc::now() - Duration::minutes(5));
    for i in 0..12 {
        let sender = if i % 2 == 0 { &ada.id } else { &bob.id };
        let sender = UserId::parse(sender).unwrap();
        insert_message(
            &messages,
            &text(
                &room_id,
                &sender,
                &format!("message number {i:02}"),
                start + Duration::seconds(i),
            ),
        )
        .await
        .unwrap();
    }

    // Ada signed in last, so this client's session cookie is hers: no Authorization header.
    let page = app
        .client
        .get(format!("{}/api/v1/chat/home/{room_id}/", app.address))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Tea &lt;room&gt;"), "the name is escaped");
    // The latest page (10 by default), oldest first: 02 … 11.
    let first = html.find("message number 02").unwrap();
    let last = html.find("message number 11").unwrap();
    assert!(first < last);
    assert!(!html.contains("message number 01"));
    assert!(html.contains("Load previous messages"));
    assert!(html.contains("<form class=\"composer\""));
    assert!(html.contains(&format!("data-ws-path=\"/ws/chat/{room_id}/\"")));

    // A stranger's browser gets nothing.
    let stranger = whisper_e2e::accounts::fresh_client()
        .get(format!("{}/api/v1/chat/home/{room_id}/", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn media_is_served_to_members_with_its_type_and_length() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, eve] = <[_; 2]>::try_from(people(&mut app, &sink, &["ada", "eve"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "pictures", &[]).await;
    let room_id = RoomId::parse(room["id"].as_str().unwrap()).unwrap();
    let sender = UserId::parse(&ada.id).unwrap();

    let bytes: Vec<u8> = b"\x89PNG\r\n\x1a\n"
        .iter()
        .copied()
        .chain((0..300_000u32).map(|i| (i % 253) as u8))
        .collect();
    let key = MediaKey::generate();
    FsMediaStore::new(&app.settings.server.media_dir)
        .put(&key, &bytes)
        .await
        .unwrap();
    let messages = PgMessages::new(db.database.clone());
    let picture = insert_message(
        &messages,
        &NewMessage {
            content: MessageContent::Media(MediaRef {
                kind: MediaKind::Image,
                key,
                content_type: "image/png".into(),
                size: bytes.len() as u64,
            }),
            ..text(&room_id, &sender, "unused", Utc::now())
        },
    )
    .await
    .unwrap();
    let words = insert_message(
        &messages,
        &text(&room_id, &sender, "just words", Utc::now()),
    )
    .await
    .unwrap();

    let listed: Value = app
        .history(&ada.access, room_id.as_str(), "")
        .await
        .json()
        .await
        .unwrap();
    let media_url = listed["results"][1]["media_url"].as_str().unwrap();
    assert_eq!(
        media_url,
        format!("http://127.0.0.1:8000/api/v1/chat/media/{}/", picture.id)
    );
    assert_eq!(listed["results"][1]["media_size"], bytes.len());

    let path = format!("/api/v1/chat/media/{}/", picture.id);
    let download = app.call_as(&ada.access, Method::GET, &path, None).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(
        download.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let stranger = app.call_as(&eve.access, Method::GET, &path, None).await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    for missing in [
        format!("/api/v1/chat/media/{}/", words.id),
        "/api/v1/chat/media/AAAAAAAAAAAAAAAAAAAAA/".into(),
    ] {
        let response = app.call_as(&ada.access, Method::GET, &missing, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}
