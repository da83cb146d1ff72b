//! The file transport's log line, in a test binary of its own: tracing caches per callsite
//! whether anyone listens, and another test's thread reaching the same callsite while this
//! test's subscriber is being installed could cache "nobody" and hide the line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use whisper_domain::ports::Mailer;
use whisper_domain::{Email, OutgoingEmail, Username};
use whisper_smtp::{MailTransport, SmtpMailer};

const LINK: &str = "http://127.0.0.1:8000/api/v1/user/verify-email/complete/tok3n/";

#[tokio::test]
async fn the_file_transport_logs_the_verification_link_for_the_developer() {
    let logs = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let dir = std::env::temp_dir().join(format!("whisper-smtp-log-{}", std::process::id()));
    let mailer = SmtpMailer::new(
        &MailTransport::File { dir: dir.clone() },
        "Whisper <noreply@whisper.localhost>",
    )
    .unwrap();

    let email = OutgoingEmail::VerifyEmail {
        to: Email::parse("ada@example.org").unwrap(),
        username: Username::parse("ada").unwrap(),
        link: LINK.to_owned(),
        expires_in_minutes: 10,
    };
    let sent = mailer.send(&email).await;
    let _ = std::fs::remove_dir_all(&dir);
    sent.unwrap();

    let logged = logs.text();
    assert!(logged.contains(" INFO "), "{logged}");
    assert!(logged.contains(LINK), "{logged}");
}

/// Log output collected in memory.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
