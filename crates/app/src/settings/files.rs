//! The configuration files: the compiled-in defaults, then the config directory's files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, ConfigError, File, FileFormat};

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

/// The compiled-in defaults, overlaid with `config_dir`'s `default.toml` and
/// `<environment>.toml` where those exist (else the compiled-in environment file). Values
/// read from the config directory remember their file (see [`config::Value::origin`]).
pub fn load(environment: Environment, config_dir: Option<&Path>) -> Result<Config, SettingsError> {
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
                    builder = builder.add_source(File::from(path).format(FileFormat::Toml));
                } else if name != "default.toml" {
                    builder = builder.add_source(File::from_str(compiled_env, FileFormat::Toml));
                }
            }
        }
        None => {
            builder = builder.add_source(File::from_str(compiled_env, FileFormat::Toml));
        }
    }
    builder.build().map_err(|error| match error {
        // A file that is no TOML: name the file.
        ConfigError::FileParse {
            uri: Some(uri),
            cause,
        } => SettingsError::new(uri, cause.to_string()),
        other => SettingsError::new(origin(config_dir), other.to_string()),
    })
}

/// Where the configuration came from, for errors that name no single setting.
pub fn origin(config_dir: Option<&Path>) -> String {
    config_dir
        .map(|dir| format!("configuration in {}", dir.display()))
        .unwrap_or_else(|| "built-in configuration".to_owned())
}
