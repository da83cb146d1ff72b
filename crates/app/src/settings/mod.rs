//! One typed tree of settings, deserialized by `config` from `config/default.toml`, then
//! `config/<WHISPER_ENV>.toml`, then the environment variables of API.md (mapped to their
//! keys in [`variables::VARIABLES`]). Invalid settings stop start-up with a message naming
//! the setting as the operator wrote it.

mod files;
/// The readers of each setting's text. Public so the fuzz targets (`fuzz/`) and property
/// tests can feed them a stranger's configuration; the settings tree is their only other user.
pub mod parse;
mod redacted;
mod secret;
#[cfg(test)]
mod tests;
mod validate;
mod variables;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, ConfigError};
use serde::Deserialize;
use url::Url;
use whisper_http::TrustedProxies;
use whisper_smtp::MailTransport;

pub use files::config_dir;
pub use redacted::{Redacted, RedactedUrl};
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

/// Everything the server is configured with: the tree of the files and the environment,
/// with the environment it was loaded for and the secret key resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The environment whose files were loaded.
    pub environment: Environment,
    /// `[server]`: listening, public address, TLS.
    pub server: ServerSettings,
    /// `[database]`: PostgreSQL.
    pub database: DatabaseSettings,
    /// `[mail]`: outgoing mail.
    pub mail: MailSettings,
    /// `[redis]`: what links instances, when several run.
    pub redis: RedisSettings,
    /// `[google]`: Google sign-in.
    pub google: GoogleSettings,
    /// The master secret (`WHISPER_SECRET_KEY`).
    pub secret_key: SecretKey,
    /// Where the secret key came from.
    pub secret_key_origin: KeyOrigin,
    /// `[lifetimes]`: how long tokens and links live.
    pub lifetimes: Lifetimes,
    /// `[websocket]`: WebSocket tunables.
    pub websocket: WebSocketSettings,
    /// `[log]`: logging.
    pub log: LogSettings,
}

/// The configuration tree as the files and the environment give it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tree {
    server: ServerSettings,
    database: DatabaseSettings,
    mail: MailSettings,
    #[serde(default)]
    redis: RedisSettings,
    google: GoogleSettings,
    secrets: SecretSettings,
    lifetimes: Lifetimes,
    websocket: WebSocketSettings,
    log: LogSettings,
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listening address (`WHISPER_ADDR`).
    #[serde(deserialize_with = "parse::socket_addr")]
    pub addr: SocketAddr,
    /// The server's public URL, used in links in emails (`WHISPER_PUBLIC_URL`).
    #[serde(deserialize_with = "parse::http_url")]
    pub public_url: Url,
    /// Where uploaded media is kept (`WHISPER_MEDIA_DIR`).
    pub media_dir: PathBuf,
    /// Whether rate limits apply (`WHISPER_RATE_LIMITS`).
    #[serde(deserialize_with = "parse::on_off")]
    pub rate_limits: bool,
    /// The proxies whose `X-Forwarded-For` names the client (`WHISPER_TRUSTED_PROXIES`):
    /// addresses and networks, comma-separated; none by default.
    #[serde(default, deserialize_with = "parse::trusted_proxies")]
    pub trusted_proxies: TrustedProxies,
    /// How long a SIGTERM drain may take before the rest is cut (`WHISPER_SHUTDOWN_TIMEOUT`).
    #[serde(rename = "shutdown_timeout_secs", deserialize_with = "parse::seconds")]
    pub shutdown_timeout: Duration,
    /// How long a request's body may take to arrive after its head (408 after that).
    #[serde(rename = "body_timeout_secs", deserialize_with = "parse::seconds")]
    pub body_timeout: Duration,
    /// Threads serving connections (`WHISPER_WORKERS`); `None`: one per CPU core.
    #[serde(deserialize_with = "parse::worker_count")]
    pub workers: Option<usize>,
    /// The HTTPS certificate chain (`WHISPER_TLS_CERT`), resolved against the working directory.
    #[serde(default, deserialize_with = "parse::optional_path")]
    pub tls_cert: Option<PathBuf>,
    /// The HTTPS private key (`WHISPER_TLS_KEY`), resolved against the working directory.
    #[serde(default, deserialize_with = "parse::optional_path")]
    pub tls_key: Option<PathBuf>,
    /// Where `GET /metrics` is served, apart from the API (`WHISPER_METRICS_ADDR`);
    /// `None`: off.
    #[serde(deserialize_with = "parse::socket_addr_or_off")]
    pub metrics_addr: Option<SocketAddr>,
}

impl ServerSettings {
    /// The PEM files to serve HTTPS with; `None`: plain HTTP.
    pub fn tls(&self) -> Option<TlsSettings> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsSettings {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`; its password is redacted in `Debug`.
    #[serde(deserialize_with = "parse::postgres_url")]
    pub url: RedactedUrl,
    /// The most connections the pool opens.
    pub pool_size: usize,
    /// Whether `whisper serve` creates the database and applies migrations.
    pub migrate_on_start: bool,
}

/// Outgoing mail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `WHISPER_MAIL`, parsed (its `Debug` hides SMTP passwords).
    #[serde(deserialize_with = "parse::mail_transport")]
    pub transport: MailTransport,
    /// `WHISPER_SENDER_EMAIL`, e.g. `Whisper <noreply@example.org>`.
    #[serde(deserialize_with = "parse::sender")]
    pub sender: String,
}

/// Redis, which links instances: fan-out, presence and rate limits across them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `WHISPER_REDIS_URL` (`redis://` or `rediss://`); unset: one instance, fanning out
    /// in process.
    #[serde(default, deserialize_with = "parse::redis_url")]
    pub url: Option<RedactedUrl>,
    /// `WHISPER_REDIS_PREFIX`: the start of every key and channel, so deployments (or
    /// test runs) can share one Redis.
    #[serde(default = "default_redis_prefix")]
    pub prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            prefix: default_redis_prefix(),
        }
    }
}

fn default_redis_prefix() -> String {
    "whisper".into()
}

/// Google sign-in; disabled unless a client id is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSettings {
    /// `WHISPER_GOOGLE_CLIENT_ID`.
    #[serde(default, deserialize_with = "parse::optional_trimmed")]
    pub client_id: Option<String>,
    /// `WHISPER_GOOGLE_CLIENT_SECRET` (from the environment only).
    #[serde(default, deserialize_with = "parse::optional_secret")]
    pub client_secret: Option<Redacted>,
    /// `WHISPER_GOOGLE_AUTH_URL`.
    #[serde(deserialize_with = "parse::http_url")]
    pub auth_url: Url,
    /// `WHISPER_GOOGLE_TOKEN_URL`.
    #[serde(deserialize_with = "parse::http_url")]
    pub token_url: Url,
    /// `WHISPER_GOOGLE_USERINFO_URL`.
    #[serde(deserialize_with = "parse::http_url")]
    pub userinfo_url: Url,
    /// How long each call to the provider may take (`google.timeout_secs`).
    #[serde(rename = "timeout_secs", deserialize_with = "parse::seconds")]
    pub timeout: Duration,
}

/// `[secrets]`: where the master secret comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretSettings {
    /// Where a development key is generated and kept when `WHISPER_SECRET_KEY` is unset.
    key_file: PathBuf,
    /// `WHISPER_SECRET_KEY` (from the environment only).
    #[serde(default, deserialize_with = "parse::optional_secret")]
    key: Option<Redacted>,
}

/// How long tokens and links live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifetimes {
    /// Access tokens (default 15 minutes).
    #[serde(rename = "access_token_secs", deserialize_with = "parse::seconds")]
    pub access_token: Duration,
    /// Refresh tokens (default 14 days).
    #[serde(rename = "refresh_token_secs", deserialize_with = "parse::seconds")]
    pub refresh_token: Duration,
    /// Email verification links (default 10 minutes).
    #[serde(rename = "verification_link_secs", deserialize_with = "parse::seconds")]
    pub verification_link: Duration,
}

/// WebSocket tunables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSocketSettings {
    /// How often an idle connection is pinged.
    #[serde(rename = "ping_interval_secs", deserialize_with = "parse::seconds")]
    pub ping_interval: Duration,
    /// Frames queued per connection before it is closed (1013).
    pub queue_capacity: usize,
    /// Sends per second per connection, after the burst.
    pub send_rate_per_sec: u32,
    /// Sends allowed at once per connection.
    pub send_burst: u32,
    /// The largest media file accepted, in bytes.
    pub media_max_bytes: usize,
    /// How soon a logged-out session's sockets close (1008).
    #[serde(rename = "revocation_check_secs", deserialize_with = "parse::seconds")]
    pub revocation_check: Duration,
    /// Sockets one user may have open on one instance; the next is closed with 4029.
    pub max_sockets_per_user: usize,
    /// Sends one connection may have committing at once.
    pub max_in_flight: usize,
}

/// How logs are written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Human-readable or JSON lines.
    #[serde(deserialize_with = "parse::log_format")]
    pub format: LogFormat,
    /// A tracing filter (`WHISPER_LOG`); `RUST_LOG` overrides it at start-up.
    #[serde(deserialize_with = "parse::log_filter")]
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
        let environment =
            Environment::parse(variables::value(env, "WHISPER_ENV").unwrap_or_default())?;
        let files = files::load(environment, config_dir)?;
        let names = variables::Names::new(env, &files);
        names.refuse_secrets_in_files()?;
        let mut tree = merged(&files, env)
            .and_then(Config::try_deserialize::<Tree>)
            .map_err(|error| deserialize_error(error, &names, config_dir))?;
        tree.resolve_paths(work_dir);
        validate::validate(&tree, environment, &names)?;
        let key = tree.secrets.key.as_ref().map(Redacted::expose);
        let (secret_key, secret_key_origin) = secret::resolve(key, &tree.secrets.key_file)?;
        Ok(Self {
            environment,
            server: tree.server,
            database: tree.database,
            mail: tree.mail,
            redis: tree.redis,
            google: tree.google,
            secret_key,
            secret_key_origin,
            lifetimes: tree.lifetimes,
            websocket: tree.websocket,
            log: tree.log,
        })
    }

    /// The WebSocket adapter's settings: `[websocket]`, with no send limit when
    /// `WHISPER_RATE_LIMITS=off`.
    pub fn ws_settings(&self) -> whisper_ws::WsSettings {
        let ws = &self.websocket;
        whisper_ws::WsSettings {
            ping_interval: ws.ping_interval,
            queue_capacity: ws.queue_capacity,
            send_rate: self
                .server
                .rate_limits
                .then_some((ws.send_rate_per_sec, ws.send_burst)),
            media_max_bytes: ws.media_max_bytes,
            revocation_check: ws.revocation_check,
            max_sockets_per_user: ws.max_sockets_per_user,
            max_in_flight: ws.max_in_flight,
            ..whisper_ws::WsSettings::default()
        }
    }
}

impl Tree {
    /// Makes the files named by relative paths relative to `work_dir`.
    fn resolve_paths(&mut self, work_dir: &Path) {
        for path in [&mut self.server.tls_cert, &mut self.server.tls_key]
            .into_iter()
            .flatten()
        {
            *path = work_dir.join(&*path);
        }
        self.secrets.key_file = work_dir.join(&self.secrets.key_file);
    }
}

/// The files with the values of `env` over them.
fn merged(files: &Config, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
    let mut builder = Config::builder().add_source(files.clone());
    for (key, value) in variables::overrides(env) {
        builder = builder.set_override(key, value)?;
    }
    builder.build()
}

/// A value that does not fit the tree, named by its key's setting.
fn deserialize_error(
    error: ConfigError,
    names: &variables::Names<'_>,
    config_dir: Option<&Path>,
) -> SettingsError {
    let (key, message) = match error {
        ConfigError::At {
            error,
            key: Some(key),
            ..
        } => (key, error.to_string()),
        ConfigError::Type {
            unexpected,
            expected,
            key: Some(key),
            ..
        } => (
            key,
            format!("invalid type: {unexpected}, expected {expected}"),
        ),
        ConfigError::NotFound(key) => (key, "is missing".to_owned()),
        other => return SettingsError::new(files::origin(config_dir), other.to_string()),
    };
    if key.contains('.') {
        names.error(&key, message)
    } else {
        // A whole section is wrong (an unknown key in it): say where it was read.
        SettingsError::new(format!("[{key}] in {}", files::origin(config_dir)), message)
    }
}
