//! The rest of UI.md's room page in a real headless Chromium, found by accessible names:
//! the creator adds and removes members and a member leaves; "Load older messages" pages
//! back through the history; a file that is not what it claims to be shows the server's
//! error; Reply then Cancel reply sends a plain message; Log out signs the browser out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use fantoccini::Locator;
use serde_json::json;
use whisper_e2e::TempDir;
use whisper_e2e::browser::people::{BrowserApp, Person};
use whisper_e2e::browser::{Browser, PATIENTLY, locate};
use whisper_postgres::testing::TestDatabase;

/// More messages than the room page's first page (30) and its second: three pages.
const SEEDED: usize = 70;

#[tokio::test]
async fn the_creator_adds_and_removes_members_and_a_member_leaves() {
    let db = TestDatabase::create().await;
    let app = BrowserApp::spawn(&db.url).await;
    let mut ada = Person::sign_up(&app, &app.base, "ada", false).await;
    let mut bob = Person::sign_up(&app, &app.base, "bob", false).await;
    let mut cyd = Person::sign_up(&app, &app.base, "cyd", false).await;
    ada.log_in().await;
    bob.log_in().await;
    cyd.log_in().await;
    let room = ada.create_room("Tea", &["bob"]).await;
    let room_page = format!("{}/rooms/{room}/", app.base);
    bob.browser.open(&room_page).await;
    for person in [&ada, &bob] {
        person
            .browser
            .wait_for("2 online", &locate::status_containing("2 online"))
            .await;
    }

    // ada adds cyd by typing her username and pressing Add.
    ada.browser.fill("Add members", "cyd").await;
    ada.browser
        .wait_for("option for cyd", &locate::option_containing("cyd"))
        .await;
    ada.browser.press("Add").await;
    for person in [&ada, &bob] {
        person
            .browser
            .wait_for_message("cyd was added to the chat.")
            .await;
    }
    cyd.browser.open(&room_page).await;
    for person in [&ada, &bob, &cyd] {
        person
            .browser
            .wait_for("3 online", &locate::status_containing("3 online"))
            .await;
    }

    // ada removes cyd: cyd's open page says so, the others see the line.
    ada.browser.press("Remove cyd").await;
    cyd.browser.wait_for_text("no longer a member").await;
    for person in [&ada, &bob] {
        person
            .browser
            .wait_for_message("cyd was removed from the chat.")
            .await;
    }
    ada.browser
        .wait_until_gone("Remove cyd", &locate::button("Remove cyd"))
        .await;

    // bob leaves: he is back on his rooms page, which no longer lists Tea; ada sees it.
    bob.browser.press("Leave room").await;
    bob.browser.wait_for_path("/rooms/").await;
    ada.browser.wait_for_message("bob left the chat.").await;
    bob.browser.wait_for_text("No rooms yet").await;
    let tea = bob
        .browser
        .client
        .find_all(Locator::XPath(&locate::link("Tea")))
        .await
        .unwrap();
    assert!(
        tea.is_empty(),
        "bob's rooms page still lists the room he left"
    );

    for person in [ada, bob, cyd] {
        person.browser.close().await;
    }
}

#[tokio::test]
async fn older_messages_replies_a_refused_file_and_logging_out() {
    let db = TestDatabase::create().await;
    let app = BrowserApp::spawn(&db.url).await;
    let mut ada = Person::sign_up(&app, &app.base, "ada", false).await;
    ada.log_in().await;
    ada.create_room("Notes", &[]).await;
    let browser = &ada.browser;
    let names: Vec<String> = (1..=SEEDED).map(|n| format!("msg-{n:03}")).collect();
    seed(browser, &names).await;

    // The reloaded page opens with the latest page; the button loads the rest.
    browser.client.refresh().await.unwrap();
    browser.wait_for_message(&names[SEEDED - 1]).await;
    assert!(
        message_count(browser).await < SEEDED,
        "the first page already holds everything"
    );
    load_all_older(browser).await;
    let texts = browser.message_texts().await;
    assert_eq!(texts.len(), SEEDED, "each message once: {texts:#?}");
    for (text, name) in texts.iter().zip(&names) {
        assert!(
            text.contains(name.as_str()),
            "{name} is not at its place: {texts:#?}"
        );
    }

    reply_then_cancel(browser, &names[SEEDED - 1]).await;
    refused_file(browser).await;

    // Log out: the login page, and the rooms page sends the browser back there.
    browser.press("Log out").await;
    browser.wait_for_path("/login/").await;
    browser.open(&format!("{}/rooms/", app.base)).await;
    let url = browser
        .until(PATIENTLY, || async {
            let url = browser.client.current_url().await.ok()?;
            (url.path() == "/login/" && url.query().is_some()).then_some(url)
        })
        .await
        .expect("/rooms/ did not send the signed-out browser to /login/?next=");
    let next: Vec<String> = url
        .query_pairs()
        .filter(|(key, _)| key == "next")
        .map(|(_, value)| value.into_owned())
        .collect();
    assert_eq!(next, ["/rooms/"], "{url}");

    ada.browser.close().await;
}

/// Sends `texts` in order as the signed-in person, through the API: a WebSocket of the
/// page's own to the room, each send acknowledged by its echo before the next.
async fn seed(browser: &Browser, texts: &[String]) {
    const SCRIPT: &str = r#"
        const [texts, done] = arguments;
        const scheme = location.protocol === "https:" ? "wss:" : "ws:";
        const socket = new WebSocket(`${scheme}//${location.host}${document.body.dataset.wsPath}`);
        let next = 0;
        const send = () => socket.send(JSON.stringify({ message_type: "message", message: texts[next++] }));
        socket.addEventListener("open", send);
        socket.addEventListener("message", (event) => {
            const frame = JSON.parse(event.data);
            if (frame.type === "chat.error") { socket.close(); done("error: " + frame.content); }
            if (frame.type !== "chat.message") return;
            if (next < texts.length) { send(); return; }
            socket.close();
            done("sent");
        });
        socket.addEventListener("close", () => done("closed after " + next));
    "#;
    let answer = browser
        .client
        .execute_async(SCRIPT, vec![json!(texts)])
        .await
        .unwrap();
    assert_eq!(answer, json!("sent"), "seeding the room failed");
    browser.wait_for_message(&texts[texts.len() - 1]).await;
}

/// How many items the Messages list has.
async fn message_count(browser: &Browser) -> usize {
    browser
        .client
        .find_all(Locator::XPath(&locate::message_items()))
        .await
        .unwrap()
        .len()
}

/// Presses "Load older messages" until it is gone (there is nothing older); each press
/// is acknowledged by more items in the list.
async fn load_all_older(browser: &Browser) {
    let older = locate::button("Load older messages");
    loop {
        let shown = browser
            .until(PATIENTLY, || async {
                let button = browser.client.find(Locator::XPath(&older)).await.ok()?;
                let displayed = button.is_displayed().await.ok()?;
                let enabled = button.is_enabled().await.ok()?;
                // Hidden: no older page. Disabled: a page is on its way.
                (!displayed || enabled).then_some(displayed.then_some(button))
            })
            .await
            .expect("Load older messages stayed disabled");
        let Some(button) = shown else { return };
        let before = message_count(browser).await;
        button.click().await.unwrap();
        let grown = browser
            .until(PATIENTLY, || async {
                (message_count(browser).await > before).then_some(())
            })
            .await;
        assert!(
            grown.is_some(),
            "Load older messages loaded nothing; {}",
            browser.evidence().await
        );
    }
}

/// Reply shows what is replied to; Cancel reply drops it: the next message quotes nothing.
async fn reply_then_cancel(browser: &Browser, original: &str) {
    browser
        .wait_for("Reply", &locate::button_of_message(original, "Reply"))
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for_text("Replying to").await;
    browser.press("Cancel reply").await;
    browser
        .wait_until_gone("Cancel reply", &locate::button("Cancel reply"))
        .await;
    browser.fill("Message", "plain after cancel").await;
    browser.press("Send").await;
    let texts = browser.wait_for_message("plain after cancel").await;
    let sent = texts
        .iter()
        .find(|t| t.contains("plain after cancel"))
        .unwrap();
    assert!(!sent.contains(original), "it was sent as a reply: {sent:?}");
}

/// A text file named like a PNG: the browser declares it an image, the server refuses
/// the bytes, the page shows its error as an alert, and the list gains nothing.
async fn refused_file(browser: &Browser) {
    let before = message_count(browser).await;
    let files = TempDir::new("browser-files");
    let fake = files.0.join("notes.png");
    std::fs::write(&fake, "just some text, not a picture").unwrap();
    browser.attach("Attach", &fake).await;
    browser
        .wait_for(
            "the server's error",
            &locate::alert_containing("not a supported image format"),
        )
        .await;
    // A text sent afterwards is the next item: the refused file took no place.
    browser.fill("Message", "after the refused file").await;
    browser.press_enter_in("Message").await;
    let texts = browser.wait_for_message("after the refused file").await;
    assert_eq!(texts.len(), before + 1, "{texts:#?}");
    let images = browser
        .client
        .find_all(Locator::XPath(&locate::image("image from ada")))
        .await
        .unwrap();
    assert!(images.is_empty(), "the refused file shows as an image");
}
