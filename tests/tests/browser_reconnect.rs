//! Losing the connection in a real browser: ada's browser reaches the app through a TCP
//! proxy that the test cuts; while she is away bob sends messages; when the proxy is back
//! her page has shown "Reconnecting…" and then shows each missed message exactly once,
//! in order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use whisper_e2e::TcpProxy;
use whisper_e2e::browser::locate;
use whisper_e2e::browser::people::{BrowserApp, Person};
use whisper_postgres::testing::TestDatabase;

#[tokio::test]
async fn a_dropped_connection_shows_everything_sent_meanwhile_exactly_once() {
    let db = TestDatabase::create().await;
    let app = BrowserApp::spawn(&db.url).await;
    let upstream = app.base.trim_start_matches("http://").parse().unwrap();
    let mut proxy = TcpProxy::start(upstream).await;
    let via_proxy = format!("http://127.0.0.1:{}", proxy.port());

    let mut ada = Person::sign_up(&app, &via_proxy, "ada", false).await;
    let mut bob = Person::sign_up(&app, &app.base, "bob", false).await;
    ada.log_in().await;
    bob.log_in().await;
    let room = ada.create_room("Tea", &["bob"]).await;
    bob.browser
        .open(&format!("{}/rooms/{room}/", app.base))
        .await;
    for person in [&ada, &bob] {
        person
            .browser
            .wait_for("2 online", &locate::status_containing("2 online"))
            .await;
    }
    bob.browser.fill("Message", "before").await;
    bob.browser.press_enter_in("Message").await;
    ada.browser.wait_for_message("before").await;

    // ada's connection drops and stays down while bob sends, each acknowledged by the
    // echo on his own page.
    proxy.stop().await;
    ada.browser.wait_for_text("Reconnecting").await;
    let missed = ["missed one", "missed two", "missed three"];
    for text in missed {
        bob.browser.fill("Message", text).await;
        bob.browser.press_enter_in("Message").await;
        bob.browser.wait_for_message(text).await;
    }

    proxy.restart().await;
    ada.browser.wait_for_message("missed three").await;
    ada.browser
        .wait_until_gone("Reconnecting…", &locate::text_containing("Reconnecting"))
        .await;
    let texts = ada.browser.message_texts().await;
    let mut expected = vec!["before"];
    expected.extend(missed);
    let found: Vec<&str> = texts
        .iter()
        .flat_map(|t| expected.iter().copied().filter(move |e| t.contains(e)))
        .collect();
    assert_eq!(found, expected, "each message once, in order: {texts:#?}");

    ada.browser.close().await;
    bob.browser.close().await;
}
