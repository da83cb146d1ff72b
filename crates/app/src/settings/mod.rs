//! One typed `Settings`, loaded from `config/default.toml`, then `config/<WHISPER_ENV>.toml`,
//! then environment variables (API.md's names). Invalid settings stop start-up with a
//! message naming the setting.

mod files;
mod secret;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;
use whisper_smtp::MailTransport;

pub use files::config_dir;
pub use secret::{KeyOrigin, SecretKey};

/// A setting that cannot work, named as the operator wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct SettingsError {
    /// The environment variable or configuration key at fault.
    pub setting: String,
    /// What is wrong with it.
    pub message: String,
}

impl SettingsError {
    fn new(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            message: message.into(),
        }
    }
}

/// Which set of configuration files applies (`WHISPER_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine: pretty logs, a generated secret key, mail into files.
    Development,
    /// Automated tests.
    Test,
    /// A real deployment: strict about secrets and mail.
    Production,
}

impl Environment {
    /// The name used in `WHISPER_ENV` and the file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }

    fn parse(raw: &str) -> Result<Self, SettingsError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "development" | "dev" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => Err(SettingsError::new(
                "WHISPER_ENV",
                format!("unknown environment {other:?}; expected development, test or production"),
            )),
        }
    }
}

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The environment whose files were loaded.
    pub environment: Environment,
    /// Listening, public address, TLS.
    pub server: ServerSettings,
    /// PostgreSQL.
    pub database: DatabaseSettings,
    /// Outgoing mail.
    pub mail: MailSettings,
    /// Redis for cross-instance fan-out; `None` for a single instance (`WHISPER_REDIS_URL`).
    pub redis_url: Option<RedactedUrl>,
    /// Google sign-in.
    pub google: GoogleSettings,
    /// The master secret (`WHISPER_SECRET_KEY`).
    pub secret_key: SecretKey,
    /// Where the secret key came from.
    pub secret_key_origin: KeyOrigin,
    /// How long tokens and links live.
    pub lifetimes: Lifetimes,
    /// WebSocket tunables (`[websocket]`); the send limit is off with `WHISPER_RATE_LIMITS=off`.
    pub websocket: whisper_ws::WsSettings,
    /// Logging.
    pub log: LogSettings,
}

/// The HTTP listener.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Listening address (`WHISPER_ADDR`).
    pub addr: SocketAddr,
    /// The server's public URL, used in links in emails (`WHISPER_PUBLIC_URL`).
    pub public_url: Url,
    /// Where uploaded media is kept (`WHISPER_MEDIA_DIR`).
    pub media_dir: PathBuf,
    /// Whether rate limits apply (`WHISPER_RATE_LIMITS`).
    pub rate_limits: bool,
    /// HTTPS certificate and key (`WHISPER_TLS_CERT`, `WHISPER_TLS_KEY`).
    pub tls: Option<TlsSettings>,
    /// How long a graceful shutdown waits for open requests.
    pub shutdown_timeout: Duration,
    /// Threads serving connections (`WHISPER_WORKERS`); `None`: one per CPU core.
    pub workers: Option<usize>,
}

/// PEM files for HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The certificate chain (`WHISPER_TLS_CERT`).
    pub cert: PathBuf,
    /// The private key (`WHISPER_TLS_KEY`).
    pub key: PathBuf,
}

/// PostgreSQL.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`; its password is redacted in `Debug`.
    pub url: RedactedUrl,
    /// The most connections the pool opens.
    pub pool_size: usize,
    /// Whether `whisper serve` creates the database and applies migrations.
    pub migrate_on_start: bool,
}

/// Outgoing mail.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `WHISPER_MAIL`, parsed (its `Debug` hides SMTP passwords).
    pub transport: MailTransport,
    /// `WHISPER_SENDER_EMAIL`, e.g. `Whisper <noreply@example.org>`.
    pub sender: String,
}

/// Google sign-in; disabled unless a client id is set.
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    /// `WHISPER_GOOGLE_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `WHISPER_GOOGLE_CLIENT_SECRET`.
    pub client_secret: Option<Redacted>,
    /// `WHISPER_GOOGLE_AUTH_URL`.
    pub auth_url: Url,
    /// `WHISPER_GOOGLE_TOKEN_URL`.
    pub token_url: Url,
    /// `WHISPER_GOOGLE_USERINFO_URL`.
    pub userinfo_url: Url,
    /// How long each call to the provider may take (`google.timeout_secs`).
    pub timeout: Duration,
}

/// How long tokens and links live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Access tokens (default 15 minutes).
    pub access_token: Duration,
    /// Refresh tokens (default 14 days).
    pub refresh_token: Duration,
    /// Email verification links (default 10 minutes).
    pub verification_link: Duration,
}

/// How logs are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Human-readable or JSON lines.
    pub format: LogFormat,
    /// A tracing filter (`WHISPER_LOG`); `RUST_LOG` overrides it at start-up.
    pub filter: String,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Multi-line, coloured, for people.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A secret string whose `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    /// The secret itself; keep it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A URL that may carry a password; `Debug` and `Display` show it with the password as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedUrl(Url);

impl RedactedUrl {
    /// The full URL, password included; keep it out of logs.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// One value and the name to blame when it is wrong: the environment variable that set
/// it, else its key in the configuration files.
struct Setting {
    name: &'static str,
    value: String,
}

impl Setting {
    fn parse<T>(self, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, SettingsError> {
        parse(&self.value).map_err(|message| SettingsError::new(self.name, message))
    }
}

/// Environment variables overriding file values; empty variables count as unset.
struct Overrides<'a>(&'a HashMap<String, String>);

impl Overrides<'_> {
    fn get(&self, var: &str) -> Option<&str> {
        self.0
            .get(var)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    fn pick(&self, var: &'static str, key: &'static str, file: String) -> Setting {
        match self.get(var) {
            Some(value) => Setting {
                name: var,
                value: value.to_owned(),
            },
            None => Setting {
                name: key,
                value: file,
            },
        }
    }

    fn pick_optional(
        &self,
        var: &'static str,
        key: &'static str,
        file: Option<String>,
    ) -> Option<Setting> {
        match self.get(var) {
            Some(value) => Some(Setting {
                name: var,
                value: value.to_owned(),
            }),
            None => file
                .filter(|v| !v.trim().is_empty())
                .map(|value| Setting { name: key, value }),
        }
    }
}

impl Settings {
    /// Loads the settings from `env` (the process environment, or a test's map) and the
    /// files of `config_dir` (or the compiled-in ones); relative paths such as the
    /// development key file are relative to the current directory.
    pub fn load(
        env: &HashMap<String, String>,
        config_dir: Option<&Path>,
    ) -> Result<Self, SettingsError> {
        let work_dir = std::env::current_dir()
            .map_err(|e| SettingsError::new("current directory", e.to_string()))?;
        Self::load_in(env, config_dir, &work_dir)
    }

    /// Like [`Settings::load`], with relative file paths resolved against `work_dir`.
    pub fn load_in(
        env: &HashMap<String, String>,
        config_dir: Option<&Path>,
        work_dir: &Path,
    ) -> Result<Self, SettingsError> {
        let overrides = Overrides(env);
        let environment = Environment::parse(overrides.get("WHISPER_ENV").unwrap_or(""))?;
        let file = files::load(environment, config_dir)?;

        let addr = overrides
            .pick("WHISPER_ADDR", "server.addr", file.server.addr)
            .parse(|raw| {
                raw.trim().parse::<SocketAddr>().map_err(|_| {
                    format!("invalid socket address {raw:?}; expected e.g. 127.0.0.1:8000")
                })
            })?;
        let public_url = overrides
            .pick(
                "WHISPER_PUBLIC_URL",
                "server.public_url",
                file.server.public_url,
            )
            .parse(http_url)?;
        let media_dir = PathBuf::from(
            overrides
                .pick(
                    "WHISPER_MEDIA_DIR",
                    "server.media_dir",
                    file.server.media_dir,
                )
                .value,
        );
        let rate_limits = match overrides.get("WHISPER_RATE_LIMITS") {
            Some(raw) => Setting {
                name: "WHISPER_RATE_LIMITS",
                value: raw.to_owned(),
            }
            .parse(on_off)?,
            None => file.server.rate_limits,
        };
        let tls = tls(
            overrides.pick_optional("WHISPER_TLS_CERT", "server.tls_cert", file.server.tls_cert),
            overrides.pick_optional("WHISPER_TLS_KEY", "server.tls_key", file.server.tls_key),
            work_dir,
        )?;
        let shutdown_timeout = Duration::from_secs(file.server.shutdown_timeout_secs);
        let workers = match overrides.get("WHISPER_WORKERS") {
            Some(raw) => Setting {
                name: "WHISPER_WORKERS",
                value: raw.to_owned(),
            }
            .parse(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|_| format!("expected a number, got {raw:?}"))
                    .and_then(worker_count)
            })?,
            None => worker_count(file.server.workers)
                .map_err(|message| SettingsError::new("server.workers", message))?,
        };

        let database_url = overrides
            .pick("DATABASE_URL", "database.url", file.database.url)
            .parse(postgres_url)?;
        let pool_size = usize::try_from(file.database.pool_size)
            .ok()
            .filter(|size| (1..=10_000).contains(size))
            .ok_or_else(|| {
                SettingsError::new("database.pool_size", "must be between 1 and 10000")
            })?;

        let transport = overrides
            .pick("WHISPER_MAIL", "mail.transport", file.mail.transport)
            .parse(MailTransport::parse)?;
        if environment == Environment::Production && transport.is_file() {
            return Err(SettingsError::new(
                "WHISPER_MAIL",
                "writes mail into files, which nobody receives in production; set an smtp://, smtp+starttls:// or smtps:// server",
            ));
        }
        let sender = overrides
            .pick("WHISPER_SENDER_EMAIL", "mail.sender", file.mail.sender)
            .parse(sender)?;

        let redis_url = overrides
            .pick_optional("WHISPER_REDIS_URL", "redis.url", file.redis.url)
            .map(|setting| setting.parse(redis_url))
            .transpose()?;

        let google = GoogleSettings {
            client_id: overrides
                .pick_optional(
                    "WHISPER_GOOGLE_CLIENT_ID",
                    "google.client_id",
                    file.google.client_id,
                )
                .map(|setting| setting.value.trim().to_owned()),
            client_secret: overrides
                .get("WHISPER_GOOGLE_CLIENT_SECRET")
                .map(|secret| Redacted(secret.to_owned())),
            auth_url: overrides
                .pick(
                    "WHISPER_GOOGLE_AUTH_URL",
                    "google.auth_url",
                    file.google.auth_url,
                )
                .parse(http_url)?,
            token_url: overrides
                .pick(
                    "WHISPER_GOOGLE_TOKEN_URL",
                    "google.token_url",
                    file.google.token_url,
                )
                .parse(http_url)?,
            userinfo_url: overrides
                .pick(
                    "WHISPER_GOOGLE_USERINFO_URL",
                    "google.userinfo_url",
                    file.google.userinfo_url,
                )
                .parse(http_url)?,
            timeout: lifetime("google.timeout_secs", file.google.timeout_secs)?,
        };

        let ws = &file.websocket;
        if ws.queue_capacity < 2 {
            return Err(SettingsError::new(
                "websocket.queue_capacity",
                "must be at least 2",
            ));
        }
        if ws.media_max_bytes == 0 {
            return Err(SettingsError::new(
                "websocket.media_max_bytes",
                "must be at least 1",
            ));
        }
        let websocket = whisper_ws::WsSettings {
            ping_interval: lifetime("websocket.ping_interval_secs", ws.ping_interval_secs)?,
            queue_capacity: ws.queue_capacity,
            send_rate: rate_limits.then_some((ws.send_rate_per_sec, ws.send_burst)),
            media_max_bytes: ws.media_max_bytes,
            revocation_check: lifetime(
                "websocket.revocation_check_secs",
                ws.revocation_check_secs,
            )?,
            ..whisper_ws::WsSettings::default()
        };

        let lifetimes = Lifetimes {
            access_token: lifetime(
                "lifetimes.access_token_secs",
                file.lifetimes.access_token_secs,
            )?,
            refresh_token: lifetime(
                "lifetimes.refresh_token_secs",
                file.lifetimes.refresh_token_secs,
            )?,
            verification_link: lifetime(
                "lifetimes.verification_link_secs",
                file.lifetimes.verification_link_secs,
            )?,
        };

        let log = LogSettings {
            format: Setting {
                name: "log.format",
                value: file.log.format,
            }
            .parse(|raw| match raw.trim().to_ascii_lowercase().as_str() {
                "pretty" => Ok(LogFormat::Pretty),
                "json" => Ok(LogFormat::Json),
                other => Err(format!(
                    "unknown log format {other:?}; expected pretty or json"
                )),
            })?,
            filter: overrides
                .pick("WHISPER_LOG", "log.filter", file.log.filter)
                .parse(log_filter)?,
        };

        let key_file = work_dir.join(file.secrets.key_file);
        let (secret_key, secret_key_origin) =
            secret::resolve(environment, overrides.get("WHISPER_SECRET_KEY"), &key_file)?;

        Ok(Self {
            environment,
            server: ServerSettings {
                addr,
                public_url,
                media_dir,
                rate_limits,
                tls,
                shutdown_timeout,
                workers,
            },
            database: DatabaseSettings {
                url: database_url,
                pool_size,
                migrate_on_start: file.database.migrate_on_start,
            },
            mail: MailSettings { transport, sender },
            redis_url,
            google,
            secret_key,
            secret_key_origin,
            lifetimes,
            websocket,
            log,
        })
    }
}

fn http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{raw:?} is not an http:// or https:// URL"));
    }
    Ok(url)
}

fn postgres_url(raw: &str) -> Result<RedactedUrl, String> {
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
}

fn redis_url(raw: &str) -> Result<RedactedUrl, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL: {e}"))?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err(format!(
            "expected redis://host:port or rediss://, got a {}:// URL",
            url.scheme()
        ));
    }
    Ok(RedactedUrl(url))
}

/// A number of worker threads; 0 means one per CPU core.
fn worker_count(count: u64) -> Result<Option<usize>, String> {
    match count {
        0 => Ok(None),
        1..=1024 => Ok(usize::try_from(count).ok()),
        _ => Err(format!("expected 0 (one per core) to 1024, got {count}")),
    }
}

fn on_off(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        other => Err(format!("expected on or off, got {other:?}")),
    }
}

fn sender(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let address = match (raw.rfind('<'), raw.ends_with('>')) {
        (Some(open), true) => &raw[open + 1..raw.len() - 1],
        _ => raw,
    };
    whisper_domain::Email::parse(address).map_err(|_| {
        format!("{raw:?} is not a mailbox; expected e.g. `Whisper <noreply@example.org>`")
    })?;
    Ok(raw.to_owned())
}

fn lifetime(name: &'static str, secs: u64) -> Result<Duration, SettingsError> {
    if secs == 0 {
        return Err(SettingsError::new(name, "must be at least 1 second"));
    }
    Ok(Duration::from_secs(secs))
}

fn log_filter(raw: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(raw.trim())
        .map(|_| raw.trim().to_owned())
        .map_err(|e| format!("invalid log filter {raw:?}: {e}"))
}

fn tls(
    cert: Option<Setting>,
    key: Option<Setting>,
    work_dir: &Path,
) -> Result<Option<TlsSettings>, SettingsError> {
    let existing = |setting: Setting| -> Result<PathBuf, SettingsError> {
        let path = work_dir.join(setting.value.trim());
        if path.is_file() {
            Ok(path)
        } else {
            Err(SettingsError::new(
                setting.name,
                format!("no such file {}", path.display()),
            ))
        }
    };
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsSettings {
            cert: existing(cert)?,
            key: existing(key)?,
        })),
        (Some(_), None) => Err(SettingsError::new(
            "WHISPER_TLS_KEY",
            "is required when WHISPER_TLS_CERT is set (set both or neither)",
        )),
        (None, Some(_)) => Err(SettingsError::new(
            "WHISPER_TLS_CERT",
            "is required when WHISPER_TLS_KEY is set (set both or neither)",
        )),
    }
}
