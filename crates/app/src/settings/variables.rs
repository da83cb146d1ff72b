//! The environment variables of API.md and README, each mapped to the key it sets, and
//! the names settings go by in error messages.

use std::collections::HashMap;

use config::{Config, Map, Source, Value, ValueKind};

use super::SettingsError;

/// An environment variable and the configuration key it overrides.
pub struct Variable {
    /// The variable, e.g. `WHISPER_ADDR`.
    pub name: &'static str,
    /// Its key in the configuration tree, e.g. `server.addr`.
    pub key: &'static str,
    /// Whether the files may hold the value too; secrets come from the environment only.
    pub in_files: bool,
}

const fn var(name: &'static str, key: &'static str) -> Variable {
    Variable {
        name,
        key,
        in_files: true,
    }
}

const fn secret(name: &'static str, key: &'static str) -> Variable {
    Variable {
        name,
        key,
        in_files: false,
    }
}

/// Every environment variable that sets a value of the tree. `WHISPER_ENV` and
/// `WHISPER_CONFIG_DIR` are not here: they choose which files are read.
pub const VARIABLES: &[Variable] = &[
    var("WHISPER_ADDR", "server.addr"),
    var("WHISPER_PUBLIC_URL", "server.public_url"),
    var("WHISPER_MEDIA_DIR", "server.media_dir"),
    var("WHISPER_RATE_LIMITS", "server.rate_limits"),
    var("WHISPER_TRUSTED_PROXIES", "server.trusted_proxies"),
    var("WHISPER_WORKERS", "server.workers"),
    var("WHISPER_SHUTDOWN_TIMEOUT", "server.shutdown_timeout_secs"),
    var("WHISPER_TLS_CERT", "server.tls_cert"),
    var("WHISPER_TLS_KEY", "server.tls_key"),
    var("WHISPER_METRICS_ADDR", "server.metrics_addr"),
    var("DATABASE_URL", "database.url"),
    var("WHISPER_MAIL", "mail.transport"),
    var("WHISPER_SENDER_EMAIL", "mail.sender"),
    var(
        "WHISPER_MAX_SOCKETS_PER_USER",
        "websocket.max_sockets_per_user",
    ),
    var("WHISPER_REDIS_URL", "redis.url"),
    var("WHISPER_REDIS_PREFIX", "redis.prefix"),
    var("WHISPER_GOOGLE_CLIENT_ID", "google.client_id"),
    secret("WHISPER_GOOGLE_CLIENT_SECRET", "google.client_secret"),
    var("WHISPER_GOOGLE_AUTH_URL", "google.auth_url"),
    var("WHISPER_GOOGLE_TOKEN_URL", "google.token_url"),
    var("WHISPER_GOOGLE_USERINFO_URL", "google.userinfo_url"),
    secret("WHISPER_SECRET_KEY", "secrets.key"),
    var("WHISPER_LOG", "log.filter"),
];

/// The value of `name` in `env`; empty (or blank) variables count as unset.
pub fn value<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name)
        .map(String::as_str)
        .filter(|value| !value.trim().is_empty())
}

/// The values `env` sets, as (key, value) pairs.
pub fn overrides(env: &HashMap<String, String>) -> impl Iterator<Item = (&'static str, &str)> {
    VARIABLES
        .iter()
        .filter_map(|variable| value(env, variable.name).map(|value| (variable.key, value)))
}

/// Names settings the way the operator wrote them: the environment variable that set the
/// value, else its key when a file of the config directory set it, else (a built-in
/// default, or nothing) the variable to set, if there is one.
pub struct Names<'a> {
    env: &'a HashMap<String, String>,
    /// The merged files, each value remembering the file it came from (if any).
    files: Map<String, Value>,
}

impl<'a> Names<'a> {
    /// Names for values from `env` over `files` (the merged configuration files).
    pub fn new(env: &'a HashMap<String, String>, files: &Config) -> Self {
        Self {
            env,
            files: files.collect().unwrap_or_default(),
        }
    }

    /// The name of the setting at `key`.
    pub fn of(&self, key: &str) -> String {
        let variable = VARIABLES.iter().find(|variable| variable.key == key);
        if let Some(variable) = variable
            && value(self.env, variable.name).is_some()
        {
            return variable.name.to_owned();
        }
        let from_a_file = self
            .file_value(key)
            .is_some_and(|value| value.origin().is_some());
        match variable {
            Some(variable) if !from_a_file => variable.name.to_owned(),
            _ => key.to_owned(),
        }
    }

    /// An error about the setting at `key`.
    pub fn error(&self, key: &str, message: impl Into<String>) -> SettingsError {
        SettingsError::new(self.of(key), message)
    }

    /// Refuses secrets written into a file: they are read from the environment only.
    pub fn refuse_secrets_in_files(&self) -> Result<(), SettingsError> {
        for variable in VARIABLES.iter().filter(|variable| !variable.in_files) {
            if self.file_value(variable.key).is_some() {
                return Err(SettingsError::new(
                    variable.key,
                    format!(
                        "is a secret, read only from {}; remove it from the files",
                        variable.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The value the files hold at a dotted `key`.
    fn file_value(&self, key: &str) -> Option<&Value> {
        let mut segments = key.split('.');
        let mut value = self.files.get(segments.next()?)?;
        for segment in segments {
            let ValueKind::Table(table) = &value.kind else {
                return None;
            };
            value = table.get(segment)?;
        }
        Some(value)
    }
}
