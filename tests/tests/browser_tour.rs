//! The tour of issue 14 in a real headless Chromium against the app on PostgreSQL, mail
//! through a real SMTP sink: two people sign up through the pages and the emailed link,
//! enroll TOTP from the setup page, log in; ada creates a room with bob; they see each
//! other online and typing, exchange messages, a reply and an image; a message of HTML
//! shows as text; bob reloads and sees the history. Screenshots go to docs/screenshots/.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use fantoccini::Locator;
use whisper_e2e::TempDir;
use whisper_e2e::browser::locate;
use whisper_e2e::browser::people::{BrowserApp, Person};
use whisper_e2e::browser::write_png;
use whisper_postgres::testing::TestDatabase;

const HTML: &str = "<img src=x onerror=alert(1)>";

#[tokio::test]
async fn two_people_sign_up_log_in_and_chat_in_the_browser() {
    let db = TestDatabase::create().await;
    let app = BrowserApp::spawn(&db.url).await;
    let mut ada = Person::sign_up(&app, &app.base, "ada", true).await;
    let mut bob = Person::sign_up(&app, &app.base, "bob", false).await;
    ada.log_in().await;
    bob.log_in().await;

    let room = ada.create_room("Tea", &["bob"]).await;
    // bob finds the room in his list.
    bob.browser.open(&format!("{}/rooms/", app.base)).await;
    bob.browser.follow("Tea").await;
    bob.browser.wait_for_path(&format!("/rooms/{room}/")).await;
    for person in [&ada, &bob] {
        person
            .browser
            .wait_for("2 online", &locate::status_containing("2 online"))
            .await;
    }

    // ada types; bob sees it, and it clears when she sends.
    ada.browser.fill("Message", "Hello bob").await;
    bob.browser
        .wait_for("ada typing", &locate::status_containing("ada is typing"))
        .await;
    ada.browser.press_enter_in("Message").await;
    bob.browser.wait_for_message("Hello bob").await;
    bob.browser
        .wait_until_gone("ada typing", &locate::status_containing("ada is typing"))
        .await;

    // bob replies to it; ada sees the quoted original above the reply.
    bob.browser
        .wait_for("Reply", &locate::button_of_message("Hello bob", "Reply"))
        .await
        .click()
        .await
        .unwrap();
    bob.browser.button("Cancel reply").await;
    bob.browser.fill("Message", "Hi ada").await;
    ada.browser
        .wait_for("bob typing", &locate::status_containing("bob is typing"))
        .await;
    bob.browser.press("Send").await;
    let texts = ada.browser.wait_for_message("Hi ada").await;
    let reply = texts.iter().find(|t| t.contains("Hi ada")).unwrap();
    assert!(
        reply.contains("Hello bob"),
        "the reply quotes nothing: {reply:?}"
    );
    bob.browser
        .wait_until_gone("Cancel reply", &locate::button("Cancel reply"))
        .await;

    // ada sends an image; both see it.
    let files = TempDir::new("browser-files");
    let picture = files.0.join("tea.png");
    write_png(&picture);
    ada.browser.attach("Attach", &picture).await;
    for person in [&ada, &bob] {
        person
            .browser
            .wait_for("ada's image", &locate::image("image from ada"))
            .await;
    }

    // HTML from a person is text.
    bob.browser.fill("Message", HTML).await;
    bob.browser.press_enter_in("Message").await;
    let texts = ada.browser.wait_for_message(HTML).await;
    assert!(texts.iter().any(|t| t.contains(HTML)), "{texts:#?}");
    let injected = ada
        .browser
        .client
        .find_all(Locator::Css("img[src='x']"))
        .await
        .unwrap();
    assert!(injected.is_empty(), "the message became an element");
    assert!(
        ada.browser.client.get_alert_text().await.is_err(),
        "a script ran"
    );
    ada.browser.screenshot("3-room").await;

    // Every message once, in order, for both; and again for bob after a reload.
    let expected = ["Hello bob", "Hi ada", HTML];
    for person in [&ada, &bob] {
        assert_in_order_once(&person.browser.message_texts().await, &expected);
    }
    bob.browser.client.refresh().await.unwrap();
    bob.browser.wait_for_message(HTML).await;
    bob.browser
        .wait_for("ada's image", &locate::image("image from ada"))
        .await;
    assert_in_order_once(&bob.browser.message_texts().await, &expected);

    ada.browser.close().await;
    bob.browser.close().await;
}

/// Each of `expected` is in exactly one message, in that order. A reply quotes its
/// original, so an item counts for a part only if it holds none of the later parts.
fn assert_in_order_once(texts: &[String], expected: &[&str]) {
    let mut last = None;
    for (n, part) in expected.iter().enumerate() {
        let later = &expected[n + 1..];
        let at: Vec<usize> = texts
            .iter()
            .enumerate()
            .filter(|(_, t)| t.contains(part) && !later.iter().any(|l| t.contains(l)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            at.len(),
            1,
            "{part:?} is not there exactly once: {texts:#?}"
        );
        assert!(
            last.is_none_or(|l| at[0] > l),
            "{part:?} is out of order in {texts:#?}"
        );
        last = Some(at[0]);
    }
}
