//! Logs: pretty for people in development, JSON lines in production; `RUST_LOG` overrides
//! the configured filter, and lettre is always kept quiet (it would log SMTP secrets).

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LogSettings};

/// The filter in force: `rust_log` when given, else the configured one, always with
/// lettre capped by [`whisper_smtp::LOG_DIRECTIVE`].
pub fn filter(settings: &LogSettings, rust_log: Option<&str>) -> anyhow::Result<EnvFilter> {
    let base = rust_log
        .filter(|value| !value.trim().is_empty())
        .unwrap_or(&settings.filter);
    let filter = EnvFilter::builder()
        .parse(base)
        .map_err(|e| anyhow::anyhow!("RUST_LOG: invalid log filter {base:?}: {e}"))?
        .add_directive(whisper_smtp::LOG_DIRECTIVE.parse()?);
    Ok(filter)
}

/// Installs the global subscriber, writing to standard error; a second call (tests) is a no-op.
pub fn init(settings: &LogSettings, rust_log: Option<&str>) -> anyhow::Result<()> {
    let filter = filter(settings, rust_log)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Already installed (several apps in one test process) is fine.
    let _ = match settings.format {
        LogFormat::Pretty => builder.pretty().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(filter: &str) -> LogSettings {
        LogSettings {
            format: LogFormat::Pretty,
            filter: filter.to_owned(),
        }
    }

    #[test]
    fn rust_log_overrides_the_configured_filter() {
        let shown = filter(&settings("debug"), Some("warn,whisper_app=trace"))
            .unwrap()
            .to_string();
        assert!(shown.contains("whisper_app=trace"), "{shown}");
        assert!(!shown.contains("debug"), "{shown}");
    }

    #[test]
    fn lettre_is_always_capped() {
        let shown = filter(&settings("debug"), None).unwrap().to_string();
        assert!(shown.contains(whisper_smtp::LOG_DIRECTIVE), "{shown}");
    }

    #[test]
    fn an_invalid_rust_log_names_the_variable() {
        let error = filter(&settings("info"), Some("=["))
            .unwrap_err()
            .to_string();
        assert!(error.contains("RUST_LOG"), "{error}");
    }
}
