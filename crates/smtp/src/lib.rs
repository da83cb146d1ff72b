//! Whisper's mail adapter: renders the business's emails from the templates in
//! `templates/email/` and delivers them with lettre, over SMTP or into `.eml` files.
//!
//! Wiring (in the app, inside the Tokio runtime; the app's workers drain the outbox):
//!
//! ```text
//! let transport = MailTransport::parse(&settings.mail)?;          // WHISPER_MAIL
//! let mailer = Arc::new(SmtpMailer::new(&transport, &settings.sender)?); // WHISPER_SENDER_EMAIL
//! let delivery = Arc::new(MailDelivery::new(outbox, mailer, clock, RetryPolicy::default()));
//! ```
//!
//! lettre logs the SMTP conversation at DEBUG, including the base64 AUTH exchange and
//! the message bodies: keep it at [`LOG_DIRECTIVE`] or quieter.

pub mod mailer;
pub mod render;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

pub use mailer::{DEFAULT_SENDER, MailerError, SMTP_TIMEOUT, SmtpMailer};
pub use render::{EmailRenderer, RenderError, RenderedEmail};
pub use transport::{
    DEFAULT_MAIL_TRANSPORT, MailTransport, SmtpCredentials, SmtpSecurity, SmtpServer,
};

/// A tracing filter directive that keeps lettre's DEBUG logs (which would show SMTP
/// credentials and message bodies) out of the logs; add it to the app's `EnvFilter`.
pub const LOG_DIRECTIVE: &str = "lettre=info";
