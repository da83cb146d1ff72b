//! `whisper check-config`: the settings as `serve` loads them, then whether each service
//! they name answers, so an operator learns of a wrong URL before a deployment, not after.

use std::fmt;

use whisper_postgres::probe::Reached;
use whisper_redis::RedisConfig;
use whisper_smtp::SmtpMailer;

use crate::settings::Settings;
use crate::tls;

/// One service or file a setting names, and whether it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The setting to fix when it fails, as the operator writes it.
    pub setting: &'static str,
    /// `Ok`: what was found; `Err`: what is wrong. Never holds a secret.
    pub outcome: Result<String, String>,
}

impl Check {
    /// Whether the setting works.
    pub fn passed(&self) -> bool {
        self.outcome.is_ok()
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(found) => write!(f, "ok    {}: {found}", self.setting),
            Err(problem) => write!(f, "FAIL  {}: {problem}", self.setting),
        }
    }
}

/// Checks the TLS files, PostgreSQL, Redis (when set) and the mail transport of
/// `settings`. Must run inside a Tokio runtime (the SMTP transport needs one).
pub async fn run(settings: &Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(paths) = settings.server.tls() {
        checks.push(Check {
            setting: "WHISPER_TLS_CERT",
            outcome: tls::server_config(&paths)
                .map(|_| format!("serves HTTPS with {}", paths.cert.display()))
                .map_err(|e| format!("{e:#}")),
        });
    }
    checks.push(database(settings).await);
    if let Some(url) = &settings.redis.url {
        let config = RedisConfig {
            url: url.expose().to_owned(),
            prefix: settings.redis.prefix.clone(),
        };
        checks.push(Check {
            setting: "WHISPER_REDIS_URL",
            outcome: whisper_redis::ping(&config)
                .await
                .map(|()| format!("Redis answers at {url}"))
                .map_err(|e| format!("{e} ({url})")),
        });
    }
    checks.push(mail(settings).await);
    checks
}

async fn database(settings: &Settings) -> Check {
    let url = &settings.database.url;
    let outcome = match whisper_postgres::probe::probe(url.expose()).await {
        Ok(Reached::Database) => Ok(format!("PostgreSQL answers at {url}")),
        Ok(Reached::ServerOnly) => Ok(format!(
            "PostgreSQL answers; the database of {url} does not exist yet (serve and migrate create it)"
        )),
        Err(e) => Err(format!("{e} ({url})")),
    };
    Check {
        setting: "DATABASE_URL",
        outcome,
    }
}

async fn mail(settings: &Settings) -> Check {
    let transport = &settings.mail.transport;
    let outcome = match SmtpMailer::new(transport, &settings.mail.sender) {
        Ok(mailer) => mailer
            .check()
            .await
            .map(|()| format!("mail goes out through {transport}")),
        Err(e) => Err(e.to_string()),
    };
    Check {
        setting: "WHISPER_MAIL",
        outcome,
    }
}
