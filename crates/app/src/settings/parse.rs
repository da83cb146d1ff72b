//! How each value of the tree is read, for `#[serde(deserialize_with)]`: environment
//! variables arrive as text, files hold text, numbers and booleans. An error's message is
//! what the operator reads after the setting's name.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use url::Url;
use whisper_http::TrustedProxies;
use whisper_smtp::MailTransport;

use super::{LogFormat, Redacted, RedactedUrl};

/// A value as written: text, a whole number or a boolean.
enum Scalar {
    Text(String),
    Number(i128),
    Bool(bool),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => write!(f, "{text:?}"),
            Self::Number(number) => write!(f, "{number}"),
            Self::Bool(flag) => write!(f, "{flag}"),
        }
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text, a whole number or true/false")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(text))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(number.into()))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(number.into()))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(flag))
    }
}

fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
    deserializer.deserialize_any(ScalarVisitor)
}

/// Text parsed by `parse`, whose error becomes the message.
fn text<'de, D, T>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    match scalar(deserializer)? {
        Scalar::Text(raw) => parse(&raw).map_err(de::Error::custom),
        other => Err(de::Error::custom(format!("expected text, got {other}"))),
    }
}

/// Like [`text`], with blank text meaning unset.
fn optional_text<'de, D, T>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    text(deserializer, |raw| {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            parse(raw).map(Some)
        }
    })
}

/// A socket address such as `127.0.0.1:8000`.
pub fn socket_addr<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    text(deserializer, |raw| {
        raw.trim()
            .parse()
            .map_err(|_| format!("invalid socket address {raw:?}; expected e.g. 127.0.0.1:8000"))
    })
}

/// A socket address, or `off` (`None`): for listeners that may be turned off.
pub fn socket_addr_or_off<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    text(deserializer, |raw| {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        raw.parse().map(Some).map_err(|_| {
            format!("invalid socket address {raw:?}; expected e.g. 127.0.0.1:9100, or off")
        })
    })
}

/// An `http://` or `https://` URL with a host (the public URL, OAuth endpoints).
pub fn http_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Url, D::Error> {
    text(deserializer, |raw| {
        let url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL {raw:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{raw:?} is not an http:// or https:// URL"));
        }
        Ok(url)
    })
}

/// A `postgres://` URL naming a database; its password never reaches the logs.
pub fn postgres_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<RedactedUrl, D::Error> {
    text(deserializer, |raw| {
        let url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL: {e}"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "expected postgres://user@host:port/database, got a {}:// URL",
                url.scheme()
            ));
        }
        if url.path().trim_start_matches('/').is_empty() {
            return Err("names no database; expected postgres://user@host:port/database".into());
        }
        Ok(RedactedUrl(url))
    })
}

/// A `redis://` or `rediss://` URL; blank means none (one instance).
pub fn redis_url<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RedactedUrl>, D::Error> {
    optional_text(deserializer, |raw| {
        let url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL: {e}"))?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(format!(
                "expected redis://host:port or rediss://, got a {}:// URL",
                url.scheme()
            ));
        }
        Ok(RedactedUrl(url))
    })
}

/// `on`/`off` (or true/false, yes/no, 1/0) from the environment; a boolean in the files.
pub fn on_off<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match scalar(deserializer)? {
        Scalar::Bool(flag) => Ok(flag),
        Scalar::Text(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok(true),
            "off" | "false" | "0" | "no" => Ok(false),
            other => Err(de::Error::custom(format!(
                "expected on or off, got {other:?}"
            ))),
        },
        other => Err(de::Error::custom(format!(
            "expected on or off, got {other}"
        ))),
    }
}

/// Comma-separated IP addresses and networks (`10.0.0.0/8`, `fd00::/8`); blank: none.
pub fn trusted_proxies<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<TrustedProxies, D::Error> {
    text(deserializer, TrustedProxies::parse)
}

/// A number of worker threads; 0 means one per CPU core (`None`).
pub fn worker_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    let count = match scalar(deserializer)? {
        Scalar::Number(count) => count,
        Scalar::Text(raw) => raw
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("expected a number, got {raw:?}")))?,
        other => {
            return Err(de::Error::custom(format!("expected a number, got {other}")));
        }
    };
    match usize::try_from(count) {
        Ok(0) => Ok(None),
        Ok(count) => Ok(Some(count)),
        Err(_) => Err(de::Error::custom(format!(
            "expected 0 (one per core) or more, got {count}"
        ))),
    }
}

/// Whole seconds, as a number in the files or as digits in an environment variable.
pub fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    match scalar(deserializer)? {
        Scalar::Number(secs) => u64::try_from(secs)
            .map(Duration::from_secs)
            .map_err(|_| de::Error::custom(format!("expected whole seconds, got {secs}"))),
        Scalar::Text(raw) => raw
            .trim()
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| de::Error::custom(format!("expected whole seconds, got {raw:?}"))),
        other => Err(de::Error::custom(format!(
            "expected whole seconds, got {other}"
        ))),
    }
}

/// Where mail goes (`WHISPER_MAIL`), as [`MailTransport::parse`] reads it.
pub fn mail_transport<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<MailTransport, D::Error> {
    text(deserializer, MailTransport::parse)
}

/// A mailbox such as `Whisper <noreply@example.org>`, kept as written (trimmed).
pub fn sender<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    text(deserializer, |raw| {
        let raw = raw.trim();
        let address = match (raw.rfind('<'), raw.ends_with('>')) {
            (Some(open), true) => &raw[open + 1..raw.len() - 1],
            _ => raw,
        };
        whisper_domain::Email::parse(address).map_err(|_| {
            format!("{raw:?} is not a mailbox; expected e.g. `Whisper <noreply@example.org>`")
        })?;
        Ok(raw.to_owned())
    })
}

/// `pretty` or `json`.
pub fn log_format<'de, D: Deserializer<'de>>(deserializer: D) -> Result<LogFormat, D::Error> {
    text(deserializer, |raw| {
        match raw.trim().to_ascii_lowercase().as_str() {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format {other:?}; expected pretty or json"
            )),
        }
    })
}

/// A tracing filter, checked by parsing it.
pub fn log_filter<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    text(deserializer, |raw| {
        tracing_subscriber::EnvFilter::builder()
            .parse(raw.trim())
            .map(|_| raw.trim().to_owned())
            .map_err(|e| format!("invalid log filter {raw:?}: {e}"))
    })
}

/// A file path; blank means unset.
pub fn optional_path<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PathBuf>, D::Error> {
    optional_text(deserializer, |raw| Ok(PathBuf::from(raw.trim())))
}

/// Trimmed text; blank means unset.
pub fn optional_trimmed<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    optional_text(deserializer, |raw| Ok(raw.trim().to_owned()))
}

/// A secret, exactly as given; blank means unset.
pub fn optional_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Redacted>, D::Error> {
    optional_text(deserializer, |raw| Ok(Redacted(raw.to_owned())))
}
