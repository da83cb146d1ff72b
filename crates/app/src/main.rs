//! `whisper serve` runs the server; `whisper migrate` prepares the database; `whisper
//! gen-cert` makes a development certificate.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use whisper_app::open_files::{self, OpenFileLimit};
use whisper_app::schema;
use whisper_app::settings::{KeyOrigin, Settings, config_dir};
use whisper_app::startup::Application;
use whisper_app::telemetry;
use whisper_app::{check_config, gen_cert};

#[derive(Parser)]
#[command(name = "whisper", version, about = "The Whisper chat server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (creating and migrating the database first, unless disabled).
    Serve,
    /// Create the database if missing and apply pending migrations, then exit.
    Migrate,
    /// Load and validate the configuration as `serve` does, check that PostgreSQL, Redis
    /// (when set) and the mail server answer, print what would be used (secrets
    /// redacted); a non-zero exit names each failing setting.
    CheckConfig,
    /// Write a self-signed development certificate and key (PEM) for HTTPS, then print
    /// the WHISPER_TLS_CERT and WHISPER_TLS_KEY to set. Not for production.
    GenCert {
        /// The directory to write cert.pem and key.pem into.
        #[arg(long, default_value = "var/tls")]
        out: PathBuf,
        /// A DNS name or IP address the certificate is for (repeatable; default:
        /// localhost, 127.0.0.1 and ::1).
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
        /// Replace existing files in the directory.
        #[arg(long)]
        force: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::CheckConfig => check_config().await,
        Command::GenCert { out, hosts, force } => gen_cert(&out, &hosts, force),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("whisper: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_settings() -> anyhow::Result<Settings> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let work_dir = std::env::current_dir()?;
    let dir = config_dir(&env, &work_dir)?;
    Ok(Settings::load_in(&env, dir.as_deref(), &work_dir)?)
}

async fn serve() -> anyhow::Result<()> {
    let settings = load_settings()?;
    telemetry::init(&settings.log, std::env::var("RUST_LOG").ok().as_deref())?;
    match open_files::raise_to_hard_limit() {
        Ok(OpenFileLimit::Refused { soft, hard, error }) => {
            tracing::warn!(%error, soft, hard, "cannot raise the open-file limit");
        }
        Ok(limit) => tracing::info!(limit = limit.in_force(), "open files (connections) allowed"),
        Err(error) => tracing::warn!(%error, "cannot read the open-file limit"),
    }
    if let KeyOrigin::DevelopmentFile { path, created } = &settings.secret_key_origin {
        tracing::warn!(
            path = %path.display(),
            created,
            "WHISPER_SECRET_KEY is not set; using a development key kept in a file (never do this in production)"
        );
    }
    let application = Application::build(&settings).await?;
    tracing::info!(
        url = %application.local_url(),
        environment = settings.environment.as_str(),
        database = %settings.database.url,
        mail = %settings.mail.transport,
        "whisper is serving"
    );
    // On stdout whatever the log settings: the one thing a person starting it needs.
    println!(
        "Whisper is running: open {}/ in a browser",
        application.local_url()
    );
    application.run_until_stopped().await?;
    tracing::info!("whisper stopped");
    Ok(())
}

async fn migrate() -> anyhow::Result<()> {
    let settings = load_settings()?;
    telemetry::init(&settings.log, std::env::var("RUST_LOG").ok().as_deref())?;
    let prepared = schema::prepare(&settings.database.url).await?;
    if prepared.created {
        println!("created database {}", settings.database.url);
    }
    if prepared.applied.is_empty() {
        println!("no pending migrations");
    }
    for version in &prepared.applied {
        println!("applied {version}");
    }
    Ok(())
}

fn gen_cert(out: &std::path::Path, hosts: &[String], force: bool) -> anyhow::Result<()> {
    let written = gen_cert::generate(out, hosts, force)?;
    println!(
        "wrote a self-signed development certificate; serve HTTPS with:\n{}",
        written.variables()
    );
    Ok(())
}

async fn check_config() -> anyhow::Result<()> {
    let settings = load_settings()?;
    println!(
        "configuration ({}; secrets redacted):\n{settings:#?}\n",
        settings.environment.as_str()
    );
    let checks = check_config::run(&settings).await;
    for check in &checks {
        println!("{check}");
    }
    let failing: Vec<&str> = checks
        .iter()
        .filter(|check| !check.passed())
        .map(|check| check.setting)
        .collect();
    if failing.is_empty() {
        println!("the configuration works");
        Ok(())
    } else {
        anyhow::bail!("check-config: not working: {}", failing.join(", "))
    }
}
