//! The end-to-end harness: the real application on port 0 against its own PostgreSQL
//! database, driven over HTTP. Helpers panic on failure: they only ever run in tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod accounts;
pub mod browser;
pub mod chat;
pub mod clock;
pub mod fake_google;
pub mod proxy;
pub mod tls;
pub mod ws;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use whisper_app::settings::Settings;
use whisper_app::startup::Application;

pub use proxy::TcpProxy;

use crate::clock::AdjustableClock;

/// A strong secret key for tests.
pub const TEST_SECRET_KEY: &str = "e2e-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `<tmp>/whisper-<prefix>-<random>`.
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("whisper-{prefix}-{}", random_suffix()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 12 random lowercase hex digits, for names that must not collide.
pub fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The test environment for a server using `database_url`, listening on a free port,
/// writing mail and keys under `work`.
pub fn test_env(database_url: &str, work: &TempDir) -> HashMap<String, String> {
    [
        ("WHISPER_ENV", "test".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("WHISPER_ADDR", "127.0.0.1:0".to_owned()),
        // Many servers run at once; a test's own config directory would leave it on.
        ("WHISPER_METRICS_ADDR", "off".to_owned()),
        ("WHISPER_SECRET_KEY", TEST_SECRET_KEY.to_owned()),
        (
            "WHISPER_MAIL",
            format!("file:{}", work.0.join("mail").display()),
        ),
        (
            "WHISPER_MEDIA_DIR",
            work.0.join("media").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A running application and an HTTP client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// A client with a cookie jar.
    pub client: reqwest::Client,
    /// The settings it runs with.
    pub settings: Settings,
    /// The clock every service of the app reads; advance it to skip time.
    pub clock: Arc<AdjustableClock>,
    /// The app's in-process event bus, to observe what it publishes.
    pub events: whisper_local::LocalEventBus,
    server: ServerHandle,
    work: TempDir,
}

impl TestApp {
    /// Starts the application against `database_url`.
    pub async fn spawn(database_url: &str) -> Self {
        Self::spawn_with(database_url, |_| {}).await
    }

    /// Starts the application against `database_url`, after `adjust` edits the environment.
    pub async fn spawn_with(
        database_url: &str,
        adjust: impl FnOnce(&mut HashMap<String, String>),
    ) -> Self {
        Self::spawn_with_clock(database_url, Arc::default(), adjust).await
    }

    /// Like [`TestApp::spawn_with`], with every service reading the time from `clock`.
    pub async fn spawn_with_clock(
        database_url: &str,
        clock: Arc<AdjustableClock>,
        adjust: impl FnOnce(&mut HashMap<String, String>),
    ) -> Self {
        let work = TempDir::new("e2e");
        let mut env = test_env(database_url, &work);
        adjust(&mut env);
        let config_dir = whisper_app::settings::config_dir(&env, &work.0).unwrap();
        let settings = Settings::load_in(&env, config_dir.as_deref(), &work.0).unwrap();
        let application = Application::build_with(&settings, clock.clone())
            .await
            .unwrap();
        let address = application.local_url();
        let server = application.handle();
        let events = application
            .events()
            .cloned()
            .expect("an app without Redis fans out in process");
        tokio::spawn(application.run_until_stopped());
        Self {
            address,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            settings,
            clock,
            events,
            server,
            work,
        }
    }

    /// The app's working directory: mail is written to `mail/`, media to `media/`.
    pub fn work_dir(&self) -> &Path {
        &self.work.0
    }

    /// `GET <address><path>`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; nobody needs to wait for it.
        drop(self.server.stop(false));
    }
}

/// Polls `probe` until it returns `Some`, panicking with `what` after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(start.elapsed() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
