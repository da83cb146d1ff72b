//! A page on another origin cannot chat with a person's cookie: its script's WebSocket to
//! the app is refused, while the room page itself (same origin, same cookie) connects.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use whisper_e2e::browser::locate;
use whisper_e2e::browser::people::{BrowserApp, Person};
use whisper_e2e::browser::static_site::StaticSite;
use whisper_postgres::testing::TestDatabase;

#[tokio::test]
async fn a_page_on_another_origin_cannot_open_a_socket_with_the_cookie() {
    let db = TestDatabase::create().await;
    let app = BrowserApp::spawn(&db.url).await;
    let mut ada = Person::sign_up(&app, &app.base, "ada", false).await;
    ada.log_in().await;
    let room = ada.create_room("Private", &[]).await;
    // The same cookie on the app's own origin connects: the room counts ada online.
    ada.browser
        .wait_for("1 online", &locate::status_containing("1 online"))
        .await;

    let socket = format!("{}/ws/chat/{room}/", app.base.replacen("http", "ws", 1));
    let elsewhere = StaticSite::socket_probe(&socket).await;
    ada.browser.open(&format!("{}/", elsewhere.base)).await;
    let outcome = ada
        .browser
        .until(whisper_e2e::browser::PATIENTLY, || async {
            let text = ada.browser.labelled_text("Outcome").await;
            (text != "pending").then_some(text)
        })
        .await
        .expect("the probe's socket neither opened nor failed");
    assert_eq!(outcome, "refused");
    ada.browser.close().await;
}
