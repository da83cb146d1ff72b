//! Rooms and history, driven like an API client; messages are written straight into the
//! app's database (the WebSocket path that normally writes them is tested elsewhere).

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use whisper_smtp::testing::SmtpSink;
use whisper_wire::{NewRoomRequest, RoomBody};

use crate::TestApp;
use crate::accounts::SignedIn;

impl TestApp {
    /// `method <path>` with a Bearer token and an optional JSON body.
    pub async fn call_as(
        &self,
        access: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(access);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    /// Creates room `name` as `creator` with `members`; returns the room object as sent.
    pub async fn create_room(
        &self,
        creator: &SignedIn,
        name: &str,
        members: &[&SignedIn],
    ) -> Value {
        let request = NewRoomRequest {
            room_name: name.to_owned(),
            user_ids: members.iter().map(|m| m.id.clone()).collect(),
        };
        let response = self
            .call_as(
                &creator.access,
                reqwest::Method::POST,
                "/api/v1/chat/room-list/",
                Some(&serde_json::to_value(request).unwrap()),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let room: Value = response.json().await.unwrap();
        RoomBody::deserialize(&room).unwrap_or_else(|e| panic!("not a room ({e}): {room}"));
        room
    }

    /// `GET home/<room>/<query>` as JSON.
    pub async fn history(&self, access: &str, room: &str, query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/api/v1/chat/home/{room}/{query}", self.address))
            .bearer_auth(access)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap()
    }
}

/// An app without rate limits (tests make many calls quickly) and a mail sink.
pub async fn chat_app(database_url: &str) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await.unwrap();
    let smtp = sink.url();
    let app = TestApp::spawn_with(database_url, |env| {
        env.insert("WHISPER_MAIL".into(), smtp);
        env.insert("WHISPER_RATE_LIMITS".into(), "off".into());
    })
    .await;
    (app, sink)
}

/// Signs in `names` (as `<name>@example.org`), each with a cookie jar of its own.
pub async fn people(app: &mut TestApp, sink: &SmtpSink, names: &[&str]) -> Vec<SignedIn> {
    let mut signed_in = Vec::with_capacity(names.len());
    for name in names {
        app.forget_cookies();
        signed_in.push(app.signed_in(sink, &format!("{name}@example.org")).await);
    }
    signed_in
}

/// ada signed in, and the id of the room "General" she created alone.
pub async fn ada_in_general(app: &mut TestApp, sink: &SmtpSink) -> (SignedIn, String) {
    let [ada] = <[_; 1]>::try_from(people(app, sink, &["ada"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "General", &[]).await;
    (ada, room_id(room))
}

/// ada and bob signed in, and the id of the room "General" ada created with bob in it.
pub async fn ada_and_bob_in_general(
    app: &mut TestApp,
    sink: &SmtpSink,
) -> (SignedIn, SignedIn, String) {
    let [ada, bob] = <[_; 2]>::try_from(people(app, sink, &["ada", "bob"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "General", &[&bob]).await;
    (ada, bob, room_id(room))
}

/// The id of a room object `create_room` returned.
pub fn room_id(room: Value) -> String {
    serde_json::from_value::<RoomBody>(room).unwrap().id
}
