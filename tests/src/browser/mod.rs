//! A real headless Chromium driven over WebDriver: one `chromedriver` per [`Browser`], on a
//! free port, with a fresh profile. Pages are read the way a person reads them: by role,
//! accessible name, label and button text (see [`locate`]).

pub mod locate;
pub mod page;
pub mod people;
pub mod static_site;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::TempDir;

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver`.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page gets to show what a test waits for: generous, a browser start on two
/// busy cores takes seconds.
pub const PATIENTLY: Duration = Duration::from_secs(30);

/// Panics with what to install when Chromium or chromedriver is missing: these tests are
/// never skipped silently.
pub fn require_chromium() {
    let missing: Vec<&str> = [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")]
        .into_iter()
        .filter(|(binary, _)| !Path::new(binary).exists())
        .map(|(_, package)| package)
        .collect();
    assert!(
        missing.is_empty(),
        "the browser tests need Debian's {}: run scripts/ensure-services as root, or \
         apt-get install -y chromium chromium-driver",
        missing.join(" and ")
    );
}

/// One headless Chromium with its own chromedriver and profile.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium through it.
    pub async fn launch() -> Self {
        require_chromium();
        let profile = TempDir::new("chromium");
        let port = free_port();
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that dropping it also ends the Chromium it started.
            .process_group(0)
            .kill_on_drop(true);
        let driver = command.spawn().expect("chromedriver did not start");
        let url = format!("http://127.0.0.1:{port}");
        let client = connect(&url, &capabilities(&profile.0)).await;
        let browser = Self {
            client,
            driver,
            _profile: profile,
        };
        browser
            .client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
        browser
    }

    /// Ends the session (Chromium quits) and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that panicked never called close: end chromedriver's whole process group
        // (it and the Chromium it started), by its id.
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The flags CRATES.md lists: without the background-networking ones Chromium keeps
/// calling out to a network that is closed here.
fn capabilities(profile: &Path) -> serde_json::Map<String, Value> {
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1280,900".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// Connects to chromedriver once it listens (it takes a moment to start).
async fn connect(url: &str, capabilities: &serde_json::Map<String, Value>) -> Client {
    let start = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(url)
            .await
        {
            Ok(client) => return client,
            Err(error) if start.elapsed() < PATIENTLY => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("no WebDriver session from {CHROMEDRIVER}: {error}"),
        }
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("no free port")
}

/// `docs/screenshots/` of the repository, where the tour's screenshots go.
pub fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("screenshots")
}

/// Writes a small valid PNG (a 96×64 gradient) to `path`, for a person to attach.
pub fn write_png(path: &Path) {
    const WIDTH: u32 = 96;
    const HEIGHT: u32 = 64;
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..HEIGHT)
        .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
        .flat_map(|(x, y)| {
            let red = u8::try_from(x * 255 / WIDTH).unwrap();
            let green = u8::try_from(y * 255 / HEIGHT).unwrap();
            [red, green, 160]
        })
        .collect();
    writer.write_image_data(&pixels).unwrap();
}
