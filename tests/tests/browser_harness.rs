//! The browser harness itself, on a fixture page: fields by label (for, around, aria-label),
//! buttons by text, status and list by role and name, typing, Enter, screenshots.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use whisper_e2e::browser::Browser;
use whisper_e2e::browser::locate;
use whisper_e2e::browser::static_site::{Asset, StaticSite};

#[tokio::test]
async fn the_harness_finds_things_the_way_a_person_does() {
    let site = StaticSite::serve(vec![
        Asset {
            path: "/",
            content_type: "text/html; charset=utf-8",
            body: include_str!("../fixtures/browser/harness.html").to_owned(),
        },
        Asset {
            path: "/harness.js",
            content_type: "text/javascript",
            body: include_str!("../fixtures/browser/harness.js").to_owned(),
        },
    ])
    .await;
    let browser = Browser::launch().await;
    browser.open(&format!("{}/", site.base)).await;

    browser.fill("email", "ada@example.org").await; // names compare case-insensitively
    browser.fill("Username", "ada").await;
    browser.fill("Message", "<b>hi</b> it's me").await;
    assert_eq!(browser.labelled_text("Secret key").await, "JBSW Y3DP");
    browser.button("Log in").await; // an <input type=submit> by its value
    browser
        .wait_for("the image", &locate::image("Image from ada"))
        .await;
    browser.press("Sign up").await;
    browser
        .wait_for("the status", &locate::status_containing("check your email"))
        .await;
    let texts = browser.wait_for_message("it's me").await;
    assert_eq!(texts, ["ada@example.org", "ada", "<b>hi</b> it's me"]);

    browser.press_enter_in("Message").await;
    browser
        .wait_for("the status", &locate::status_containing("sent with Enter"))
        .await;
    browser.close().await;
}
