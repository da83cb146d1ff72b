//! Rooms and history, driven like an API client; messages are written straight into the
//! app's database (the WebSocket path that normally writes them is tested elsewhere).

use reqwest::StatusCode;
use serde_json::{Value, json};
use whisper_smtp::testing::SmtpSink;

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

    /// Creates room `name` as `creator` with `members`; returns the room object.
    pub async fn create_room(
        &self,
        creator: &SignedIn,
        name: &str,
        members: &[&SignedIn],
    ) -> Value {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let response = self
            .call_as(
                &creator.access,
                reqwest::Method::POST,
                "/api/v1/chat/room-list/",
                Some(&json!({"room_name": name, "user_ids": ids})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
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
    let room_id = room["id"].as_str().unwrap().to_owned();
    (ada, room_id)
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
    let room_id = room["id"].as_str().unwrap().to_owned();
    (ada, bob, room_id)
}
