//! Signing benchmark users up through the real flow: register, read the verification email
//! from the server's file-mail directory, verify, scan the QR code, confirm, log in.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use whisper_http::routes;
use whisper_wire::accounts::{EmailRequest, OtpRequest, RegisterRequest, TokensBody};

/// A signed-in benchmark user.
pub struct BenchUser {
    /// The account id.
    pub id: String,
    /// The access token.
    pub access: String,
    /// The email address.
    pub email: String,
    /// The authenticator holding the account's secret.
    pub totp: Totp,
}

/// What signing users up needs.
pub struct SignUp<'a> {
    /// `http://host:port`.
    pub url: &'a str,
    /// The server's `file:` mail directory.
    pub mail_dir: &'a Path,
    /// Distinguishes this run's accounts from earlier ones.
    pub run: &'a str,
    /// Recipients of the mail files read so far, so each file is parsed once.
    pub recipients: parking_lot::Mutex<std::collections::HashMap<PathBuf, String>>,
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .build()?)
}

/// POSTs `body` (none when `None`) and returns the answer's body text.
async fn post(
    client: &reqwest::Client,
    url: String,
    body: Option<&impl Serialize>,
) -> anyhow::Result<String> {
    let request = client.post(&url);
    let request = match body {
        Some(body) => request.json(body),
        None => request,
    };
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !(status.is_success() || status.is_redirection()) {
        bail!("POST {url}: {status} {text}");
    }
    Ok(text)
}

/// A code of the authenticator, as `totp-device/verify/` and `totp/verify/` take it.
fn otp(code: String) -> OtpRequest {
    OtpRequest {
        otp_token: code,
        username: None,
    }
}

/// The current 30-second step, waiting out the last 3 seconds of a step.
async fn settled_step() -> anyhow::Result<u64> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
    if now.as_secs() % 30 >= 27 {
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() / 30)
}

impl SignUp<'_> {
    /// Registers and signs in user number `n`.
    pub async fn user(&self, n: usize) -> anyhow::Result<BenchUser> {
        let email = format!("bench-{}-{n}@example.org", self.run);
        let client = client()?;
        let register = RegisterRequest {
            email: email.clone(),
            username: None,
        };
        post(
            &client,
            format!("{}{}", self.url, routes::REGISTER),
            Some(&register),
        )
        .await?;
        let link = self.verification_link(&email).await?;
        let path = url::Url::parse(&link)?.path().to_owned();
        let nobody = None::<&()>;
        post(&client, format!("{}{path}", self.url), nobody).await?;
        post(
            &client,
            format!("{}{}", self.url, routes::TOTP_DEVICE_CREATE),
            nobody,
        )
        .await?;
        let png = client
            .post(format!("{}{}", self.url, routes::QR_CODE))
            .send()
            .await?
            .bytes()
            .await?;
        let totp = scan(&png)?;
        let step = settled_step().await?;
        let code = |step: u64| totp.generate(step * 30).to_string();
        post(
            &client,
            format!("{}{}", self.url, routes::TOTP_DEVICE_VERIFY),
            Some(&otp(code(step - 1))),
        )
        .await?;
        let login = EmailRequest {
            email: email.clone(),
        };
        post(
            &client,
            format!("{}{}", self.url, routes::LOGIN),
            Some(&login),
        )
        .await?;
        let tokens = post(
            &client,
            format!("{}{}", self.url, routes::TOTP_VERIFY),
            Some(&otp(code(step))),
        )
        .await?;
        let tokens: TokensBody = serde_json::from_str(&tokens)
            .with_context(|| format!("reading the tokens of {email}: {tokens}"))?;
        Ok(BenchUser {
            id: tokens.id,
            access: tokens.access,
            email,
            totp,
        })
    }

    /// The link of the newest verification email to `email`, waiting for it to be written.
    async fn verification_link(&self, email: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(link) = self.find_link(email)? {
                return Ok(link);
            }
            if Instant::now() > deadline {
                bail!(
                    "no verification email to {email} in {}",
                    self.mail_dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn find_link(&self, email: &str) -> anyhow::Result<Option<String>> {
        let entries = std::fs::read_dir(self.mail_dir)
            .with_context(|| format!("reading --mail-dir {}", self.mail_dir.display()))?;
        let mut recipients = self.recipients.lock();
        let mut newest: Option<(SystemTime, PathBuf)> = None;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "eml") {
                continue;
            }
            if !recipients.contains_key(&path) {
                // A file still being written has no recipient yet: read it again later.
                let raw = std::fs::read(&path)?;
                if let Some(to) = whisper_smtp::testing::to_address(&raw) {
                    recipients.insert(path.clone(), to);
                }
            }
            if recipients.get(&path).map(String::as_str) != Some(email) {
                continue;
            }
            let modified = entry.metadata()?.modified()?;
            if newest.as_ref().is_none_or(|(time, _)| modified > *time) {
                newest = Some((modified, path));
            }
        }
        match newest {
            Some((_, path)) => Ok(whisper_smtp::testing::first_link(&std::fs::read(path)?)),
            None => Ok(None),
        }
    }
}

/// Reads the authenticator secret from a QR code PNG, as a phone app does.
fn scan(png_bytes: &[u8]) -> anyhow::Result<Totp> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info()?;
    let mut pixels = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or_else(|| anyhow!("empty PNG"))?
    ];
    let frame = reader.next_frame(&mut pixels)?;
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    let grid = grids
        .first()
        .ok_or_else(|| anyhow!("no QR code in the image"))?;
    let (_, uri) = grid.decode()?;
    let secret = url::Url::parse(&uri)?
        .query_pairs()
        .find(|(key, _)| key == "secret")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| anyhow!("no secret in {uri}"))?;
    Ok(Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(&secret)?)
        .build()?)
}
