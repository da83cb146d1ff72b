//! Abuse, refused cleanly and leaving nothing behind: forged and stale tokens, tampered
//! cookies, TOTP guessing across sessions and instances, oversized and slow requests, one
//! user opening too many sockets, and path tricks. Each case asserts the refusal (status and
//! error shape, or close code), that the server keeps serving, and that nothing was created.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

#[path = "abuse/cookies.rs"]
mod cookies;
#[path = "abuse/oversized.rs"]
mod oversized;
#[path = "abuse/paths.rs"]
mod paths;
#[path = "abuse/raw_http.rs"]
mod raw_http;
#[path = "abuse/slow.rs"]
mod slow;
#[path = "abuse/sockets.rs"]
mod sockets;
#[path = "abuse/tokens.rs"]
mod tokens;
#[path = "abuse/totp.rs"]
mod totp;

use reqwest::StatusCode;
use serde_json::Value;
use whisper_postgres::testing::row_count;

/// Asserts `status` and the error shape of API.md (`code` and `detail` strings).
pub fn assert_error_shape(case: &str, status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{case}: {body}");
    assert!(body["code"].is_string(), "{case}: no code: {body}");
    assert!(body["detail"].is_string(), "{case}: no detail: {body}");
}

/// Reads `response` and asserts it is an `expected` error in the error shape.
pub async fn expect_refusal(
    case: &str,
    response: reqwest::Response,
    expected: StatusCode,
) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{case}: a {status} whose body is not JSON ({e}): {text}"));
    assert_error_shape(case, status, &body, expected);
    body
}

/// The rows a refused request could have created, table by table.
#[derive(Debug, PartialEq, Eq)]
pub struct Footprint(Vec<(&'static str, i64)>);

impl Footprint {
    /// Counts the rows of every table a request could write to.
    pub async fn of(database_url: &str) -> Self {
        let mut counts = Vec::new();
        for table in [
            "users",
            "email_verification_codes",
            "totp_devices",
            "refresh_token_families",
            "access_tokens",
            "rooms",
            "room_members",
            "messages",
            "mail_outbox",
            "totp_failures",
            "social_identities",
        ] {
            counts.push((table, row_count(database_url, table).await));
        }
        Self(counts)
    }
}
