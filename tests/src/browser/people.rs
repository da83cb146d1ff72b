//! People using Whisper in a browser: signing up through the pages and the emailed link,
//! enrolling TOTP from the secret shown on the QR page, logging in, creating a room.

use std::collections::HashMap;
use std::time::Duration;

use whisper_smtp::testing::SmtpSink;

use super::{Browser, PATIENTLY, free_port, locate};
use crate::TestApp;
use crate::accounts::Authenticator;

/// The app on a port known before it starts, so that its public URL (in emails and media
/// URLs) is the address the browsers open; mail goes to a real SMTP sink.
pub struct BrowserApp {
    /// The running app.
    pub app: TestApp,
    /// Where its mail arrives.
    pub sink: SmtpSink,
    /// `http://127.0.0.1:<port>`, the app's public URL.
    pub base: String,
}

impl BrowserApp {
    /// Starts the app against `database_url`, without rate limits (a test signs people up
    /// quickly), after `adjust` edits its environment.
    pub async fn spawn(database_url: &str) -> Self {
        Self::spawn_with(database_url, |_| {}).await
    }

    /// Like [`BrowserApp::spawn`], after `adjust` edits the environment.
    pub async fn spawn_with(
        database_url: &str,
        adjust: impl FnOnce(&mut HashMap<String, String>),
    ) -> Self {
        let sink = SmtpSink::start().await.unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let smtp = sink.url();
        let public = base.clone();
        let app = TestApp::spawn_with(database_url, |env| {
            env.insert("WHISPER_MAIL".into(), smtp);
            env.insert("WHISPER_RATE_LIMITS".into(), "off".into());
            env.insert("WHISPER_ADDR".into(), format!("127.0.0.1:{port}"));
            env.insert("WHISPER_PUBLIC_URL".into(), public);
            adjust(env);
        })
        .await;
        Self { app, sink, base }
    }

    /// The newest link emailed to `email`, on `base` (the browser may come through a proxy).
    pub async fn emailed_link(&self, email: &str, base: &str) -> String {
        self.sink
            .wait_for_message(
                |m| m.to.iter().any(|to| to == email),
                Duration::from_secs(30),
            )
            .await
            .expect("the verification email never arrived");
        let newest = self
            .sink
            .messages()
            .into_iter()
            .rev()
            .find(|m| m.to.iter().any(|to| to == email))
            .unwrap();
        let link = newest
            .first_link()
            .expect("no link in the verification email");
        let link = url::Url::parse(&link).unwrap();
        format!("{base}{}", link.path())
    }
}

/// A person with a browser and an authenticator, signed up through the pages.
pub struct Person {
    /// Their browser.
    pub browser: Browser,
    /// Their email address.
    pub email: String,
    /// Their username.
    pub username: String,
    /// The authenticator enrolled from the secret on the setup page.
    pub authenticator: Authenticator,
    /// The last time step whose code was used (codes are refused once used).
    pub last_step: u64,
    /// The address their browser uses for the app.
    pub base: String,
}

impl Person {
    /// Signs `username` up at `base` in a new browser: the sign-up page, the emailed link,
    /// the 2FA setup page; the browser ends on `/login/`. With `screenshots`, the pages
    /// of the way are saved into `docs/screenshots/` for the tour.
    pub async fn sign_up(app: &BrowserApp, base: &str, username: &str, screenshots: bool) -> Self {
        let browser = Browser::launch().await;
        let email = format!("{username}@example.org");
        browser.open(&format!("{base}/signup/")).await;
        browser.fill("Email", &email).await;
        browser.fill("Username", username).await;
        browser.press("Sign up").await;
        browser.wait_for_text("Check your email").await;
        if screenshots {
            browser.screenshot("1-signup").await;
        }

        let link = app.emailed_link(&email, base).await;
        browser.open(&link).await;
        browser.press("Verify email").await;
        browser.wait_for_path("/setup-2fa/").await;

        browser
            .wait_for("QR code image", &locate::image("QR code"))
            .await;
        if screenshots {
            browser.screenshot("2-setup-2fa").await;
        }
        let secret: String = browser
            .labelled_text("Secret key")
            .await
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_uppercase();
        let authenticator =
            Authenticator::from_uri(&format!("otpauth://totp/Whisper:{email}?secret={secret}"));
        // The step before the current one confirms, the current one logs in afterwards.
        let step = Authenticator::settled_step().await;
        browser.fill("Code", &authenticator.code_at(step - 1)).await;
        browser.press("Confirm").await;
        browser.wait_for_path("/login/").await;
        Self {
            browser,
            email,
            username: username.to_owned(),
            authenticator,
            last_step: step - 1,
            base: base.to_owned(),
        }
    }

    /// Logs in on the login page with a code not used before; the browser ends on `/rooms/`.
    pub async fn log_in(&mut self) {
        if self.browser.path().await != "/login/" {
            self.browser.open(&format!("{}/login/", self.base)).await;
        }
        self.browser.fill("Email", &self.email).await;
        self.browser.press("Continue").await;
        let step = self.next_step().await;
        self.browser
            .fill("Code", &self.authenticator.code_at(step))
            .await;
        self.browser.press("Log in").await;
        self.browser.wait_for_path("/rooms/").await;
    }

    /// A time step after the last one used, waiting for it when needed.
    async fn next_step(&mut self) -> u64 {
        loop {
            let step = Authenticator::settled_step().await;
            if step > self.last_step {
                self.last_step = step;
                return step;
            }
            // Codes are accepted one step either side: the next one is already valid.
            if step + 1 > self.last_step {
                self.last_step = step + 1;
                return step + 1;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Creates room `name` with `members` (picked by username) on `/rooms/`; returns the
    /// new room's id once its page is open.
    pub async fn create_room(&self, name: &str, members: &[&str]) -> String {
        let browser = &self.browser;
        browser.fill("Room name", name).await;
        for member in members {
            browser.fill("Add members", member).await;
            let option = locate::option_containing(member);
            browser
                .wait_for(&format!("option for {member}"), &option)
                .await
                .click()
                .await
                .unwrap();
        }
        browser.press("Create room").await;
        let path = browser
            .until(PATIENTLY, || async {
                let path = browser.path().await;
                let id = path.strip_prefix("/rooms/")?.trim_end_matches('/');
                (!id.is_empty()).then(|| id.to_owned())
            })
            .await
            .expect("the new room's page never opened");
        browser
            .wait_for("the Messages list", &locate::labelled_element("Messages"))
            .await;
        path
    }
}
