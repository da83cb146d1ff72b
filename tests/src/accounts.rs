//! Driving the accounts flow the way an API client does: register, read the email, verify,
//! scan the QR code like an authenticator app, confirm, log in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde::Serialize;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use whisper_smtp::testing::SmtpSink;
use whisper_wire::accounts::{AccountBody, EmailRequest, OtpRequest, RegisterRequest, TokensBody};

use crate::TestApp;

/// What a phone authenticator app keeps after scanning the QR code.
pub struct Authenticator {
    /// The scanned `otpauth://` URI.
    pub uri: String,
    totp: Totp,
}

impl Authenticator {
    /// Decodes a PNG QR code and reads its `otpauth://` URI.
    pub fn scan(png_bytes: &[u8]) -> Self {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        let (width, height) = (frame.width as usize, frame.height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            pixels[y * width + x]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "expected one QR code in the image");
        let (_, uri) = grids[0].decode().unwrap();
        Self::from_uri(&uri)
    }

    /// An authenticator for an `otpauth://totp/...?secret=...` URI.
    pub fn from_uri(uri: &str) -> Self {
        let parsed = url::Url::parse(uri).unwrap();
        assert_eq!(parsed.scheme(), "otpauth");
        let secret = parsed
            .query_pairs()
            .find(|(key, _)| key == "secret")
            .map(|(_, value)| value.into_owned())
            .unwrap();
        let secret = Secret::try_from_base32(&secret).unwrap();
        assert_eq!(secret.len(), 20, "secrets are 160 bits");
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_step_duration(30)
            .with_secret(secret)
            .build()
            .unwrap();
        Self {
            uri: uri.to_owned(),
            totp,
        }
    }

    /// The current 30-second time step.
    pub fn current_step() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 30
    }

    /// The current time step, waiting for the next one when this one ends within 3 s, so
    /// that codes of the returned step and the one before stay valid for a while.
    pub async fn settled_step() -> u64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let into_step = now.as_secs() % 30;
        if into_step >= 27 {
            let left = Duration::from_secs(30 - into_step)
                - Duration::from_nanos(u64::from(now.subsec_nanos()));
            tokio::time::sleep(left + Duration::from_millis(50)).await;
        }
        Self::current_step()
    }

    /// The code of time step `step`.
    pub fn code_at(&self, step: u64) -> String {
        self.totp.generate(step * 30).to_string()
    }

    /// The body that sends the code of time step `step`.
    pub fn otp_at(&self, step: u64) -> OtpRequest {
        OtpRequest {
            otp_token: self.code_at(step),
            username: None,
        }
    }
}

/// A user who went through the whole flow, with a fresh session.
pub struct SignedIn {
    /// The account id.
    pub id: String,
    /// The email address.
    pub email: String,
    /// The access token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
    /// The authenticator holding the account's secret.
    pub authenticator: Authenticator,
    /// The last time step whose code was used; the next one is usable at once.
    pub last_step: u64,
}

impl TestApp {
    /// Continues with an empty cookie jar, like another browser.
    pub fn forget_cookies(&mut self) {
        self.client = fresh_client();
    }

    /// `POST <path>` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &impl Serialize) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST <path>` without a body.
    pub async fn post_empty(&self, path: &str) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    /// `GET <path>` with a Bearer token.
    pub async fn get_as(&self, access: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    /// `path` of a link in an email, requested on this app (links carry the public URL).
    pub fn local_link(&self, link: &str) -> String {
        let parsed = url::Url::parse(link).unwrap();
        format!("{}{}", self.address, parsed.path())
    }

    /// Registers `email`, waits for its verification email in `sink`, and returns the link.
    pub async fn register_and_read_link(&self, sink: &SmtpSink, email: &str) -> String {
        let register = RegisterRequest {
            email: email.to_owned(),
            username: None,
        };
        let response = self.post_json("/api/v1/user/register/", &register).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{:?}",
            response.text().await
        );
        self.verification_link(sink, email).await
    }

    /// The newest verification link `sink` received for `email`.
    pub async fn verification_link(&self, sink: &SmtpSink, email: &str) -> String {
        sink.wait_for_message(
            |m| m.to.iter().any(|to| to == email),
            Duration::from_secs(20),
        )
        .await
        .expect("the verification email never arrived");
        let newest = sink
            .messages()
            .into_iter()
            .rev()
            .find(|m| m.to.iter().any(|to| to == email))
            .unwrap();
        self.local_link(&newest.first_link().unwrap())
    }

    /// Registers and verifies `email` (this client's session then carries it).
    pub async fn verified(&self, sink: &SmtpSink, email: &str) -> AccountBody {
        let link = self.register_and_read_link(sink, email).await;
        let response = self.client.post(link).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Creates and scans a TOTP device for the session's email.
    pub async fn enrolled(&self) -> Authenticator {
        let created = self.post_empty("/api/v1/user/totp-device/create/").await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let qr = self.post_empty("/api/v1/user/qr-code/").await;
        assert_eq!(qr.status(), StatusCode::OK);
        Authenticator::scan(&qr.bytes().await.unwrap())
    }

    /// Registers, verifies, enrolls, confirms and logs in `email`.
    pub async fn signed_in(&self, sink: &SmtpSink, email: &str) -> SignedIn {
        self.verified(sink, email).await;
        let authenticator = self.enrolled().await;
        // The previous step confirms and the current one logs in, so the next step is free
        // for the caller (codes are accepted one step either side).
        let step = Authenticator::settled_step().await;
        let confirmed = self
            .post_json(
                "/api/v1/user/totp-device/verify/",
                &authenticator.otp_at(step - 1),
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        let login = EmailRequest {
            email: email.to_owned(),
        };
        let login = self.post_json("/api/v1/user/login/", &login).await;
        assert_eq!(login.status(), StatusCode::SEE_OTHER);
        let tokens = self
            .post_json("/api/v1/user/totp/verify/", &authenticator.otp_at(step))
            .await;
        assert_eq!(tokens.status(), StatusCode::OK);
        let tokens: TokensBody = tokens.json().await.unwrap();
        SignedIn {
            id: tokens.id,
            email: email.to_owned(),
            access: tokens.access,
            refresh: tokens.refresh,
            authenticator,
            last_step: step,
        }
    }
}

/// Starts an SMTP sink and the app sending mail to it.
pub async fn app_with_sink(database_url: &str) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await.unwrap();
    let smtp = sink.url();
    let app = TestApp::spawn_with(database_url, |env| {
        env.insert("WHISPER_MAIL".into(), smtp);
    })
    .await;
    (app, sink)
}

/// A fresh client with its own cookie jar, for a second person or device.
pub fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
