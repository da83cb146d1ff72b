//! The browser client's server side: its pages (HTML with a strict CSP), signed-out
//! redirects to the login page that refuse to send anyone elsewhere, the embedded assets,
//! and the REST API for a browser authenticated by its session cookie (changes only from
//! this server's own pages).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whisper_e2e::accounts::fresh_client;
use whisper_e2e::chat::{chat_app, people, room_id};
use whisper_postgres::testing::TestDatabase;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' \
    data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn assert_page(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    assert!(
        header(&response, "content-type").starts_with("text/html"),
        "{url}"
    );
    assert_eq!(header(&response, "content-security-policy"), CSP, "{url}");
    assert_eq!(
        header(&response, "x-content-type-options"),
        "nosniff",
        "{url}"
    );
    let html = response.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains(" onclick="),
        "{url}: inline script"
    );
    html
}

#[tokio::test]
async fn every_page_is_html_with_the_strict_policy_and_signed_out_visitors_go_to_login() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [ada] = <[_; 1]>::try_from(people(&mut app, &sink, &["ada"]).await)
        .ok()
        .unwrap();
    let room = room_id(app.create_room(&ada, "Tea <room>", &[]).await);
    let at = |path: &str| format!("{}{path}", app.address);

    let stranger = fresh_client();
    let home = assert_page(&stranger, &at("/")).await;
    assert!(home.contains(">Sign up</a>") && home.contains(">Log in</a>"));
    assert!(
        assert_page(&stranger, &at("/signup/"))
            .await
            .contains(">Sign up</button>")
    );
    assert!(
        assert_page(&stranger, &at("/setup-2fa/"))
            .await
            .contains("alt=\"QR code\"")
    );
    assert!(
        assert_page(&stranger, &at("/login/"))
            .await
            .contains(">Continue</button>")
    );
    let link = app.register_and_read_link(&sink, "cy@example.org").await;
    let verify = assert_page(&stranger, &app.local_link(&link)).await;
    assert!(verify.contains(">Verify email</button>"), "{verify}");

    // Ada's session cookie (she signed in on app.client) opens the signed-in pages.
    let rooms = assert_page(&app.client, &at("/")).await;
    assert!(rooms.contains(">Log out</button>") && rooms.contains(">Create room</button>"));
    assert_page(&app.client, &at("/rooms/")).await;
    let page = assert_page(&app.client, &at(&format!("/rooms/{room}/"))).await;
    assert!(page.contains("Tea &lt;room&gt;") && page.contains("aria-label=\"Messages\""));
    assert!(page.contains("src=\"/static/room.js\""));

    for path in ["/rooms/".to_owned(), format!("/rooms/{room}/")] {
        let response = stranger.get(at(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            header(&response, "location"),
            format!("/login/?next={path}")
        );
    }
}

#[tokio::test]
async fn the_login_page_only_sends_people_back_to_this_server() {
    let db = TestDatabase::create().await;
    let (app, _sink) = chat_app(&db.url).await;
    let login = |next: &str| {
        let url = format!("{}/login/?next={next}", app.address);
        async move { assert_page(&fresh_client(), &url).await }
    };
    let local = login("%2Frooms%2Fabc%2F").await;
    assert!(
        local.contains("data-next=\"&#x2F;rooms&#x2F;abc&#x2F;\""),
        "{local}"
    );
    for foreign in [
        "https://evil.example/",
        "//evil.example/",
        "/%5Cevil.example",
    ] {
        let html = login(foreign).await;
        assert!(!html.contains("evil"), "{foreign} kept: {html}");
        assert!(
            html.contains("data-next=\"&#x2F;rooms&#x2F;\""),
            "{foreign}"
        );
    }
}

#[tokio::test]
async fn the_assets_are_embedded_with_their_content_types() {
    let db = TestDatabase::create().await;
    let (app, _sink) = chat_app(&db.url).await;
    for (name, kind) in [
        ("api.js", "text/javascript"),
        ("socket.js", "text/javascript"),
        ("room.js", "text/javascript"),
        ("whisper.css", "text/css"),
    ] {
        let response = app.get(&format!("/static/{name}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert!(
            header(&response, "content-type").starts_with(kind),
            "{name}"
        );
        assert!(
            header(&response, "cache-control").contains("max-age"),
            "{name}"
        );
        assert!(!response.text().await.unwrap().is_empty(), "{name}");
    }
    assert_eq!(
        app.get("/static/nope.js").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_browser_session_uses_the_api_but_changes_nothing_from_another_origin() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let [bob, ada] = <[_; 2]>::try_from(people(&mut app, &sink, &["bob", "ada"]).await)
        .ok()
        .unwrap();
    let at = |path: &str| format!("{}{path}", app.address);
    let own = app.address.clone();

    // Ada's cookie alone, no Authorization header: reading works from anywhere.
    let me: Value = app
        .client
        .get(at("/api/v1/user/me/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], ada.id.as_str());
    let listed = app
        .client
        .get(at("/api/v1/chat/room-list/"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);

    let create = |origin: Option<&str>, name: &str| {
        let mut request = app
            .client
            .post(at("/api/v1/chat/room-list/"))
            .json(&json!({"room_name": name, "user_ids": [bob.id]}));
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        request.send()
    };
    for origin in [None, Some("https://evil.example"), Some("null")] {
        let refused = create(origin, "forged").await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{origin:?}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "cross_origin");
    }
    let created = create(Some(&own), "ours").await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let room = room_id(created.json().await.unwrap());

    let remove = at(&format!("/api/v1/chat/room/{room}/users/{}/", bob.id));
    let forged = app
        .client
        .delete(&remove)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A Bearer token is not sent by browsers on their own: it works whatever the origin.
    let bearer = app
        .call_as(&ada.access, Method::GET, "/api/v1/chat/room-list/", None)
        .await;
    let rooms: Value = bearer.json().await.unwrap();
    assert_eq!(
        rooms.as_array().unwrap().len(),
        1,
        "the forged room was not created"
    );
    let removed = app
        .client
        .delete(&remove)
        .header("Origin", own.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);

    let logout = app
        .client
        .post(at("/api/v1/user/logout/"))
        .header("Origin", own.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after = app.client.get(at("/api/v1/user/me/")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}
