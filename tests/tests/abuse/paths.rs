//! Path tricks on the media route and the static assets: dot segments (plain, encoded,
//! double-encoded), encoded slashes and backslashes, absolute paths, NUL bytes, overlong
//! names. Each is a 400 or 404 in the error shape, never a file from elsewhere, never a 500.
//! Requests are written by hand: an HTTP client would normalize the dot segments away.

use reqwest::StatusCode;
use whisper_e2e::chat::{ada_in_general, chat_app};
use whisper_postgres::testing::TestDatabase;

use crate::assert_error_shape;
use crate::raw_http::{assert_still_serving, parse_answer, raw_exchange, raw_request};

/// What a file outside the served places holds; no answer may contain it.
const SECRET: &str = "the-secret-that-must-never-be-served";

/// The tricks, relative to a route's last segment.
fn tricks(secret_name: &str) -> Vec<String> {
    let long = "a".repeat(4000);
    [
        format!("../{secret_name}"),
        format!("../../{secret_name}"),
        "../../../../../../../../etc/passwd".to_owned(),
        format!("%2e%2e/{secret_name}"),
        format!("%2e%2e%2f{secret_name}"),
        format!("..%2f..%2f{secret_name}"),
        format!("%2E%2E%2F%2E%2E%2F{secret_name}"),
        format!("%252e%252e%252f{secret_name}"),
        format!("..%5c..%5c{secret_name}"),
        format!("..\\..\\{secret_name}"),
        "%2fetc%2fpasswd".to_owned(),
        "/etc/passwd".to_owned(),
        "%00".to_owned(),
        "api.js%00.txt".to_owned(),
        "AAAAAAAAAAAAAAAAAAAA%00".to_owned(),
        "%c0%ae%c0%ae%c0%af".to_owned(),
        ".".to_owned(),
        "..".to_owned(),
        long,
    ]
    .into_iter()
    .collect()
}

/// Sends `GET <path>` as written, with `headers`; asserts a 400 or 404 in the error shape
/// that does not contain the secret.
async fn assert_refused(app: &whisper_e2e::TestApp, path: &str, headers: &str) {
    let request = raw_request("GET", path, headers, b"");
    let answer = raw_exchange(app, &request).await;
    let case = &path[..path.len().min(120)];
    assert!(!answer.contains(SECRET), "{case}: served the secret");
    assert!(!answer.contains("root:"), "{case}: served /etc/passwd");
    let (status, body) = parse_answer(&answer);
    assert!(
        [StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND].contains(&status),
        "{case}: {status}"
    );
    assert_error_shape(case, status, &body, status);
}

#[tokio::test]
async fn path_tricks_on_media_and_static_files_are_refused_in_the_error_shape() {
    let db = TestDatabase::create().await;
    let (mut app, sink) = chat_app(&db.url).await;
    let (ada, _room) = ada_in_general(&mut app, &sink).await;
    // A file beside the media directory, and one inside it, that nothing may serve.
    let secret_name = "secret.txt";
    std::fs::write(app.work_dir().join(secret_name), SECRET).unwrap();
    let media = app.work_dir().join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join(secret_name), SECRET).unwrap();
    let auth = format!("authorization: Bearer {}\r\n", ada.access);

    for trick in tricks(secret_name) {
        assert_refused(&app, &format!("/static/{trick}"), "").await;
        assert_refused(&app, &format!("/api/v1/chat/media/{trick}/"), &auth).await;
        assert_refused(&app, &format!("/api/v1/chat/media/{trick}"), &auth).await;
    }
    // The real assets are still there.
    assert_eq!(app.get("/static/api.js").await.status(), StatusCode::OK);
    assert_still_serving(&app, "path tricks").await;
}
