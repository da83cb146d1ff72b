//! Room rules over REST: creation, membership, who may do what, and the events published.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whisper_domain::RoomEvent;
use whisper_e2e::chat::{chat_app, people};
use whisper_postgres::testing::TestDatabase;

async fn error_code(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn rooms_are_created_with_their_creator_and_listed_newest_first() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, bob] = <[_; 2]>::try_from(people(&mut app, &sink, &["ada", "bob"]).await)
        .ok()
        .unwrap();

    let general = app.create_room(&ada, "General", &[&bob]).await;
    assert_eq!(general["room_name"], "General");
    assert_eq!(general["creator"], ada.id.as_str());
    assert_eq!(general["users"], json!([ada.id, bob.id]));
    assert!(general["created"].as_str().unwrap().ends_with('Z'));
    let solo = app.create_room(&ada, "Solo", &[]).await;
    assert_eq!(solo["users"], json!([ada.id]));

    let list: Value = app
        .call_as(&ada.access, Method::GET, "/api/v1/chat/room-list/", None)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["room_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Solo", "General"]);
    let bobs: Value = app
        .call_as(&bob.access, Method::GET, "/api/v1/chat/room-list/", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs, json!([general]));

    let (status, body) = error_code(
        app.call_as(
            &bob.access,
            Method::POST,
            "/api/v1/chat/room-list/",
            Some(&json!({"room_name": "general", "user_ids": []})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("room_name_taken"))
    );
}

#[tokio::test]
async fn unknown_and_malformed_user_ids_are_listed() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada] = <[_; 1]>::try_from(people(&mut app, &sink, &["ada"]).await)
        .ok()
        .unwrap();
    let ghost = "AAAAAAAAAAAAAAAAAAAAA";
    let (status, body) = error_code(
        app.call_as(
            &ada.access,
            Method::POST,
            "/api/v1/chat/room-list/",
            Some(&json!({"room_name": "x", "user_ids": [ghost]})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["fields"]["user_ids"],
        json!([format!("Unknown user: {ghost}")])
    );

    let (status, body) = error_code(
        app.call_as(
            &ada.access,
            Method::POST,
            "/api/v1/chat/room-list/",
            Some(&json!({"room_name": "x", "user_ids": ["nope", "../etc"]})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["fields"]["user_ids"],
        json!(["Not a user id: nope", "Not a user id: ../etc"])
    );
    // Nothing was created by the refused requests.
    let list: Value = app
        .call_as(&ada.access, Method::GET, "/api/v1/chat/room-list/", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn the_creator_adds_and_removes_members_and_each_change_is_published() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, bob, cyd] = <[_; 3]>::try_from(people(&mut app, &sink, &["ada", "bob", "cyd"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "General", &[&bob]).await;
    let room_id = room["id"].as_str().unwrap();
    let mut events = app.events.subscribe();

    let members = format!("/api/v1/chat/room/{room_id}/users/");
    let (status, body) = error_code(
        app.call_as(
            &bob.access,
            Method::POST,
            &members,
            Some(&json!({"user_ids": [cyd.id]})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_room_creator"))
    );

    let added = app
        .call_as(
            &ada.access,
            Method::POST,
            &members,
            Some(&json!({"user_ids": [cyd.id, bob.id]})),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let added: Value = added.json().await.unwrap();
    assert_eq!(added["users"].as_array().unwrap().len(), 3);
    let username_of = |access: String| {
        let app = &app;
        async move {
            let me: Value = app
                .get_as(&access, "/api/v1/user/me/")
                .await
                .json()
                .await
                .unwrap();
            me["username"].as_str().unwrap().to_owned()
        }
    };
    let (bob_name, cyd_name) = (
        username_of(bob.access.clone()).await,
        username_of(cyd.access.clone()).await,
    );
    match events.recv().await.unwrap() {
        RoomEvent::MemberAdded { user, username, .. } => {
            assert_eq!(
                (user.as_str(), username.as_str()),
                (cyd.id.as_str(), cyd_name.as_str())
            );
        }
        other => panic!("unexpected {other:?}"),
    }

    // Bob may not remove Cyd, but may leave; Ada removes Cyd.
    let cyd_path = format!("{members}{}/", cyd.id);
    let bob_path = format!("{members}{}/", bob.id);
    let (status, _) = error_code(
        app.call_as(&bob.access, Method::DELETE, &cyd_path, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let left = app
        .call_as(&bob.access, Method::DELETE, &bob_path, None)
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    let removed = app
        .call_as(&ada.access, Method::DELETE, &cyd_path, None)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let notes: Vec<(String, bool)> = (0..2)
        .map(|_| events.try_recv().unwrap())
        .map(|event| match event {
            RoomEvent::MemberRemoved { username, left, .. } => (username.to_string(), left),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(notes, [(bob_name, true), (cyd_name, false)]);
    assert!(events.try_recv().is_err(), "nothing else was published");

    // Removing someone who is no longer a member is a 404.
    let again = app
        .call_as(&ada.access, Method::DELETE, &cyd_path, None)
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn strangers_get_403_on_every_room_endpoint_and_unknown_rooms_404() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada, eve] = <[_; 2]>::try_from(people(&mut app, &sink, &["ada", "eve"]).await)
        .ok()
        .unwrap();
    let room = app.create_room(&ada, "Private", &[]).await;
    let room_id = room["id"].as_str().unwrap();
    let unknown = "AAAAAAAAAAAAAAAAAAAAA";
    let body = json!({"user_ids": [eve.id]});
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/chat/home/{room_id}/"), None),
        (
            Method::POST,
            format!("/api/v1/chat/room/{room_id}/users/"),
            Some(&body),
        ),
        (
            Method::DELETE,
            format!("/api/v1/chat/room/{room_id}/users/{}/", ada.id),
            None,
        ),
    ] {
        let response = app.call_as(&eve.access, method.clone(), &path, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let not_found = path.replace(room_id, unknown);
        let response = app
            .call_as(&ada.access, method.clone(), &not_found, body)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{method} {not_found}"
        );
    }
    // A client without the session cookie (app.client keeps Eve's, which authenticates).
    let anonymous = whisper_e2e::accounts::fresh_client()
        .get(format!("{}/api/v1/chat/room-list/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
