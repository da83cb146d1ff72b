//! The domain's [`Mailer`] port over lettre: an SMTP server (pooled connections, rustls) or
//! `.eml` files in a directory for development.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::response::Code;
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use tracing::{debug, info, warn};

use whisper_domain::ports::Mailer;
use whisper_domain::{DeliveryFailure, OutgoingEmail};

use crate::render::{EmailRenderer, RenderError};
use crate::transport::{MailTransport, SmtpSecurity, SmtpServer};

/// How long the SMTP server may take to accept a connection or answer a command.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The sender used when `WHISPER_SENDER_EMAIL` is not set.
pub const DEFAULT_SENDER: &str = "Whisper <noreply@whisper.localhost>";

/// Why a mailer could not be built; each names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// The sender is not a mailbox such as `Whisper <noreply@example.org>`.
    #[error(
        "WHISPER_SENDER_EMAIL: `{value}` is not a valid sender ({reason}); \
         use an address such as `Whisper <noreply@example.org>`"
    )]
    InvalidSender {
        /// The value given.
        value: String,
        /// What the address parser said.
        reason: String,
    },
    /// The directory of the file transport cannot be created.
    #[error("WHISPER_MAIL: cannot create the mail directory {}: {source}", dir.display())]
    MailDirectory {
        /// The directory.
        dir: PathBuf,
        /// The file system's answer.
        source: std::io::Error,
    },
    /// TLS cannot be set up for the SMTP host (e.g. it is not a valid DNS name).
    #[error("WHISPER_MAIL: cannot set up TLS for the mail server `{host}`: {reason}")]
    Tls {
        /// The SMTP host.
        host: String,
        /// What lettre said.
        reason: String,
    },
    /// The SMTP transport spawns its pool's tasks, so it must be built inside a Tokio runtime.
    #[error("the SMTP mailer must be built inside a Tokio runtime")]
    NoRuntime,
    /// The embedded templates do not compile.
    #[error(transparent)]
    Templates(#[from] RenderError),
}

/// Sends the business's emails through the configured [`MailTransport`].
pub struct SmtpMailer {
    sender: Mailbox,
    renderer: EmailRenderer,
    outlet: Outlet,
}

enum Outlet {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        server: String,
    },
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

impl SmtpMailer {
    /// A mailer for `transport` sending from `sender` (`Name <address>` or a bare address),
    /// with [`SMTP_TIMEOUT`]. Call it inside the Tokio runtime that will send the mail.
    pub fn new(transport: &MailTransport, sender: &str) -> Result<Self, MailerError> {
        Self::with_timeout(transport, sender, SMTP_TIMEOUT)
    }

    /// Like [`SmtpMailer::new`] with another SMTP timeout.
    pub fn with_timeout(
        transport: &MailTransport,
        sender: &str,
        timeout: Duration,
    ) -> Result<Self, MailerError> {
        let sender = parse_sender(sender)?;
        let renderer = EmailRenderer::new()?;
        let outlet = match transport {
            MailTransport::File { dir } => {
                std::fs::create_dir_all(dir).map_err(|source| MailerError::MailDirectory {
                    dir: dir.clone(),
                    source,
                })?;
                Outlet::File {
                    transport: AsyncFileTransport::new(dir),
                    dir: dir.clone(),
                }
            }
            MailTransport::Smtp(server) => {
                if tokio::runtime::Handle::try_current().is_err() {
                    return Err(MailerError::NoRuntime);
                }
                if server.security == SmtpSecurity::Plain && server.credentials.is_some() {
                    warn!(
                        server = %server,
                        "WHISPER_MAIL sends SMTP credentials without TLS; prefer smtp+starttls:// or smtps://"
                    );
                }
                Outlet::Smtp {
                    transport: smtp_transport(server, timeout)?,
                    server: server.to_string(),
                }
            }
        };
        Ok(Self {
            sender,
            renderer,
            outlet,
        })
    }

    /// The address mail is sent from.
    pub fn sender(&self) -> &Mailbox {
        &self.sender
    }

    /// Whether mail can go out now, for `whisper check-config`: the SMTP server accepts a
    /// connection (and the login, when one is set), or the mail directory takes a file.
    /// `Err` says why, never with the credentials.
    pub async fn check(&self) -> Result<(), String> {
        match &self.outlet {
            Outlet::Smtp { transport, server } => match transport.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("the mail server {server} does not answer")),
                Err(error) => Err(format!("the mail server {server}: {error}")),
            },
            Outlet::File { dir, .. } => {
                let probe = dir.join(format!(".whisper-check-{}", std::process::id()));
                let written = tokio::fs::write(&probe, b"").await;
                let _ = tokio::fs::remove_file(&probe).await;
                written.map_err(|error| {
                    format!(
                        "the mail directory {} is not writable: {error}",
                        dir.display()
                    )
                })
            }
        }
    }

    fn compose(&self, email: &OutgoingEmail) -> Result<Message, DeliveryFailure> {
        let rendered = self
            .renderer
            .render(email)
            .map_err(|error| DeliveryFailure::Permanent(error.to_string()))?;
        let address: Address = email.recipient().as_str().parse().map_err(|error| {
            DeliveryFailure::Permanent(format!("the recipient address is not usable: {error}"))
        })?;
        let name = match email {
            OutgoingEmail::VerifyEmail { username, .. } => username.to_string(),
        };
        Message::builder()
            .from(self.sender.clone())
            .to(Mailbox::new(Some(name), address))
            .subject(rendered.subject)
            .message_id(None)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|error| {
                DeliveryFailure::Permanent(format!("the message cannot be built: {error}"))
            })
    }

    async fn write_file(
        &self,
        transport: &AsyncFileTransport<Tokio1Executor>,
        dir: &Path,
        email: &OutgoingEmail,
        message: Message,
    ) -> Result<(), DeliveryFailure> {
        // The directory may have been removed since startup.
        tokio::fs::create_dir_all(dir).await.map_err(|error| {
            DeliveryFailure::Transient(format!(
                "cannot create the mail directory {}: {error}",
                dir.display()
            ))
        })?;
        let id = transport.send(message).await.map_err(|error| {
            DeliveryFailure::Transient(format!(
                "cannot write the email into {}: {error}",
                dir.display()
            ))
        })?;
        let file = dir.join(format!("{id}.eml"));
        match email {
            OutgoingEmail::VerifyEmail { to, link, .. } => info!(
                to = %to,
                link = %link,
                file = %file.display(),
                "verification email written to a file instead of being sent; open the link to verify the address"
            ),
        }
        Ok(())
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outlet = match &self.outlet {
            Outlet::Smtp { server, .. } => server.clone(),
            Outlet::File { dir, .. } => format!("file:{}", dir.display()),
        };
        f.debug_struct("SmtpMailer")
            .field("sender", &self.sender.to_string())
            .field("transport", &outlet)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), DeliveryFailure> {
        let message = self.compose(email)?;
        let outcome = match &self.outlet {
            Outlet::File { transport, dir } => {
                self.write_file(transport, dir, email, message).await
            }
            Outlet::Smtp { transport, .. } => {
                transport.send(message).await.map(|_| ()).map_err(classify)
            }
        };
        match &outcome {
            Ok(()) => debug!(kind = email.kind(), "email handed over"),
            Err(failure) => warn!(kind = email.kind(), %failure, "email not delivered"),
        }
        outcome
    }
}

fn parse_sender(raw: &str) -> Result<Mailbox, MailerError> {
    raw.trim()
        .parse::<Mailbox>()
        .map_err(|error| MailerError::InvalidSender {
            value: raw.to_owned(),
            reason: error.to_string(),
        })
}

fn smtp_transport(
    server: &SmtpServer,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailerError> {
    let tls_error = |error: lettre::transport::smtp::Error| MailerError::Tls {
        host: server.host.clone(),
        reason: error.to_string(),
    };
    let builder = match server.security {
        SmtpSecurity::Plain => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
        }
        SmtpSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&server.host).map_err(tls_error)?
        }
        SmtpSecurity::ImplicitTls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&server.host).map_err(tls_error)?
        }
    };
    let builder = builder.port(server.port).timeout(Some(timeout));
    let builder = match &server.credentials {
        Some(login) => builder.credentials(Credentials::new(
            login.user().to_owned(),
            login.password().to_owned(),
        )),
        None => builder,
    };
    Ok(builder.build())
}

/// Replies that mean the server refused our login: a configuration problem to fix, after
/// which the email can still go out, so it must not be given up.
fn is_login_refusal(code: Code) -> bool {
    matches!(code.to_string().as_str(), "530" | "534" | "535" | "538")
}

/// 5xx refusals of the message are permanent; everything else (connection refused, timeouts,
/// 4xx, TLS or login problems) is worth retrying.
fn classify(error: lettre::transport::smtp::Error) -> DeliveryFailure {
    if error.is_permanent() {
        if error.status().is_some_and(is_login_refusal) {
            return DeliveryFailure::Transient(format!(
                "the mail server refused the login (check the credentials in WHISPER_MAIL): {error}"
            ));
        }
        return DeliveryFailure::Permanent(format!("the mail server refused the email: {error}"));
    }
    if error.is_timeout() {
        return DeliveryFailure::Transient(format!(
            "the mail server did not answer in time: {error}"
        ));
    }
    if error.is_transient() {
        return DeliveryFailure::Transient(format!("the mail server deferred the email: {error}"));
    }
    DeliveryFailure::Transient(format!("the mail server could not take the email: {error}"))
}
