//! The configuration files: the compiled-in defaults, then the config directory's files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, File, FileFormat};
use serde::Deserialize;

use super::{Environment, SettingsError};

const DEFAULT: &str = include_str!("../../../../config/default.toml");
const DEVELOPMENT: &str = include_str!("../../../../config/development.toml");
const TEST: &str = include_str!("../../../../config/test.toml");
const PRODUCTION: &str = include_str!("../../../../config/production.toml");

/// The config directory: `WHISPER_CONFIG_DIR`, else `<work_dir>/config` when it exists,
/// else none (the compiled-in files alone).
pub fn config_dir(
    env: &HashMap<String, String>,
    work_dir: &Path,
) -> Result<Option<PathBuf>, SettingsError> {
    if let Some(dir) = env.get("WHISPER_CONFIG_DIR").filter(|dir| !dir.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            return Err(SettingsError::new(
                "WHISPER_CONFIG_DIR",
                format!("{} is not a directory", dir.display()),
            ));
        }
        return Ok(Some(dir));
    }
    let dir = work_dir.join("config");
    Ok(dir.join("default.toml").is_file().then_some(dir))
}

/// Every setting the files can hold, after merging them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub server: ServerFile,
    pub database: DatabaseFile,
    pub mail: MailFile,
    #[serde(default)]
    pub redis: RedisFile,
    pub google: GoogleFile,
    pub secrets: SecretsFile,
    pub lifetimes: LifetimesFile,
    pub websocket: WebsocketFile,
    pub log: LogFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    pub addr: String,
    pub public_url: String,
    pub media_dir: String,
    pub rate_limits: bool,
    pub shutdown_timeout_secs: u64,
    pub workers: u64,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    pub url: String,
    pub pool_size: u64,
    pub migrate_on_start: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailFile {
    pub transport: String,
    pub sender: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisFile {
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleFile {
    pub client_id: Option<String>,
    pub auth_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsFile {
    pub key_file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebsocketFile {
    pub ping_interval_secs: u64,
    pub queue_capacity: usize,
    pub send_rate_per_sec: u32,
    pub send_burst: u32,
    pub media_max_bytes: usize,
    pub revocation_check_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifetimesFile {
    pub access_token_secs: u64,
    pub refresh_token_secs: u64,
    pub verification_link_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    pub format: String,
    pub filter: String,
}

/// The compiled-in defaults, overlaid with `config_dir`'s `default.toml` and
/// `<environment>.toml` where those exist (else the compiled-in environment file).
pub fn load(
    environment: Environment,
    config_dir: Option<&Path>,
) -> Result<FileSettings, SettingsError> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULT, FileFormat::Toml));
    let env_name = format!("{}.toml", environment.as_str());
    let compiled_env = match environment {
        Environment::Development => DEVELOPMENT,
        Environment::Test => TEST,
        Environment::Production => PRODUCTION,
    };
    match config_dir {
        Some(dir) => {
            for name in ["default.toml", env_name.as_str()] {
                let path = dir.join(name);
                if path.is_file() {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        SettingsError::new(path.display().to_string(), e.to_string())
                    })?;
                    // Surface syntax errors with the file's name before merging.
                    Config::builder()
                        .add_source(File::from_str(&text, FileFormat::Toml))
                        .build()
                        .map_err(|e| {
                            SettingsError::new(path.display().to_string(), e.to_string())
                        })?;
                    builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
                } else if name != "default.toml" {
                    builder = builder.add_source(File::from_str(compiled_env, FileFormat::Toml));
                }
            }
        }
        None => {
            builder = builder.add_source(File::from_str(compiled_env, FileFormat::Toml));
        }
    }
    let origin = config_dir
        .map(|dir| format!("configuration in {}", dir.display()))
        .unwrap_or_else(|| "built-in configuration".to_owned());
    builder
        .build()
        .and_then(Config::try_deserialize)
        .map_err(|e| SettingsError::new(origin, e.to_string()))
}
