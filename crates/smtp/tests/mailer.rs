#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use whisper_domain::ports::Mailer;
use whisper_domain::{DeliveryFailure, Email, OutgoingEmail, Username};
use whisper_smtp::testing::{self, SinkReply, SmtpSink};
use whisper_smtp::{MailTransport, MailerError, SmtpMailer};

const SENDER: &str = "Whisper <noreply@whisper.localhost>";
const WAIT: Duration = Duration::from_secs(10);

/// A link longer than a mail line, with `=` in it, so that a quoted-printable encoding
/// would have to break and escape it.
fn link() -> String {
    format!(
        "http://127.0.0.1:8000/api/v1/user/verify-email/complete/{}/?from=mail",
        "tok3n_-".repeat(7)
    )
}

fn verify_email(to: &str) -> OutgoingEmail {
    OutgoingEmail::VerifyEmail {
        to: Email::parse(to).unwrap(),
        username: Username::parse("ada").unwrap(),
        link: link(),
        expires_in_minutes: 10,
    }
}

fn mailer_for(sink_port: u16) -> SmtpMailer {
    let transport = MailTransport::parse(&format!("smtp://127.0.0.1:{sink_port}")).unwrap();
    SmtpMailer::with_timeout(&transport, SENDER, Duration::from_secs(5)).unwrap()
}

/// Sends ada's verification email, which must fail, and says how.
async fn failure_sending(mailer: &SmtpMailer) -> DeliveryFailure {
    mailer
        .send(&verify_email("ada@example.org"))
        .await
        .unwrap_err()
}

/// Sends ada's verification email to a server answering `reply`, which must refuse it.
async fn failure_when_the_server_answers(reply: SinkReply) -> (SmtpSink, DeliveryFailure) {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_reply(reply);
    let failure = failure_sending(&mailer_for(sink.port())).await;
    (sink, failure)
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "whisper-smtp-{name}-{}-{nanos}",
            std::process::id()
        ));
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_verification_email_reaches_the_smtp_server_as_a_multipart_message() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = mailer_for(sink.port());

    mailer.send(&verify_email("ada@example.org")).await.unwrap();

    let message = sink
        .wait_for_message(|m| m.to.iter().any(|to| to == "ada@example.org"), WAIT)
        .await
        .expect("the sink received the email");
    assert_eq!(message.from, "noreply@whisper.localhost");
    assert_eq!(message.to, ["ada@example.org"]);
    assert_eq!(
        testing::from_address(&message.data).as_deref(),
        Some("noreply@whisper.localhost")
    );
    assert_eq!(
        testing::to_address(&message.data).as_deref(),
        Some("ada@example.org")
    );
    assert_eq!(
        message.subject().as_deref(),
        Some("Verify your email for Whisper")
    );
    let raw = String::from_utf8_lossy(&message.data).to_lowercase();
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("message-id: <"), "{raw}");
    assert_eq!(message.first_link(), Some(link()));
    assert!(message.text_part().unwrap().contains("Hi ada,"));
    assert!(message.html_part().unwrap().contains(&link()));
}

#[tokio::test]
async fn consecutive_emails_reuse_the_mailer() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = mailer_for(sink.port());

    mailer.send(&verify_email("ada@example.org")).await.unwrap();
    mailer.send(&verify_email("bob@example.org")).await.unwrap();

    sink.wait_for_message(|m| m.to == ["bob@example.org"], WAIT)
        .await
        .expect("the second email arrived");
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_failure() {
    let sink = SmtpSink::start().await.unwrap();
    let port = sink.port();
    sink.stop().await;
    let mailer = mailer_for(port);

    let failure = failure_sending(&mailer).await;

    assert!(
        matches!(failure, DeliveryFailure::Transient(_)),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_server_deferring_the_recipient_is_a_transient_failure() {
    let (sink, failure) = failure_when_the_server_answers(SinkReply::Defer).await;

    assert!(
        matches!(&failure, DeliveryFailure::Transient(reason) if reason.contains("451")),
        "{failure:?}"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_server_refusing_the_recipient_is_a_permanent_failure() {
    let (sink, failure) = failure_when_the_server_answers(SinkReply::Refuse).await;

    assert!(
        matches!(&failure, DeliveryFailure::Permanent(reason) if reason.contains("550")),
        "{failure:?}"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn credentials_from_the_setting_log_in_to_the_server() {
    let sink = SmtpSink::start_requiring_login("mailer@example.org", "p@ss:word")
        .await
        .unwrap();
    let transport = MailTransport::parse(&format!(
        "smtp://mailer%40example.org:p%40ss%3Aword@127.0.0.1:{}",
        sink.port()
    ))
    .unwrap();
    let mailer = SmtpMailer::new(&transport, SENDER).unwrap();

    mailer.send(&verify_email("ada@example.org")).await.unwrap();

    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_refused_login_is_transient_so_the_email_waits_for_fixed_credentials() {
    let sink = SmtpSink::start_requiring_login("mailer", "right")
        .await
        .unwrap();
    let transport =
        MailTransport::parse(&format!("smtp://mailer:wrong@127.0.0.1:{}", sink.port())).unwrap();
    let mailer = SmtpMailer::new(&transport, SENDER).unwrap();

    let failure = failure_sending(&mailer).await;

    assert!(
        matches!(&failure, DeliveryFailure::Transient(reason) if reason.contains("535")),
        "{failure:?}"
    );
    assert!(!failure.to_string().contains("wrong"), "{failure}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn the_file_transport_writes_an_eml_file_with_the_link() {
    let scratch = ScratchDir::new("file");
    // A nested directory that does not exist yet: the mailer creates it.
    let dir = scratch.path().join("var").join("mail");
    let transport = MailTransport::File { dir: dir.clone() };
    let mailer = SmtpMailer::new(&transport, SENDER).unwrap();

    mailer.send(&verify_email("ada@example.org")).await.unwrap();

    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let raw = std::fs::read(&files[0]).unwrap();
    assert_eq!(testing::first_link(&raw), Some(link()));
    assert_eq!(
        testing::to_address(&raw).as_deref(),
        Some("ada@example.org")
    );
}

#[tokio::test]
async fn the_file_transport_recreates_a_directory_removed_after_startup() {
    let scratch = ScratchDir::new("recreate");
    let transport = MailTransport::File {
        dir: scratch.path().to_owned(),
    };
    let mailer = SmtpMailer::new(&transport, SENDER).unwrap();
    std::fs::remove_dir_all(scratch.path()).unwrap();

    mailer.send(&verify_email("ada@example.org")).await.unwrap();

    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 1);
}

#[test]
fn an_invalid_sender_is_refused_naming_the_setting() {
    let transport = MailTransport::default();
    let error = SmtpMailer::new(&transport, "not an address").unwrap_err();
    assert!(
        matches!(error, MailerError::InvalidSender { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("WHISPER_SENDER_EMAIL"),
        "{error}"
    );
}

#[test]
fn a_bare_sender_address_is_accepted() {
    let scratch = ScratchDir::new("sender");
    let transport = MailTransport::File {
        dir: scratch.path().to_owned(),
    };
    let mailer = SmtpMailer::new(&transport, "noreply@example.org").unwrap();
    assert_eq!(mailer.sender().email.to_string(), "noreply@example.org");
}

#[test]
fn building_an_smtp_mailer_outside_a_runtime_is_an_error_not_a_panic() {
    let transport = MailTransport::parse("smtp://127.0.0.1:2525").unwrap();
    let error = SmtpMailer::new(&transport, SENDER).unwrap_err();
    assert!(matches!(error, MailerError::NoRuntime), "{error:?}");
}

#[tokio::test]
async fn the_mailer_debug_output_hides_the_password() {
    let transport = MailTransport::parse("smtps://mailer:hunter2secret@mail.example.org").unwrap();
    let mailer = SmtpMailer::new(&transport, SENDER).unwrap();
    let debug = format!("{mailer:?}");
    assert!(!debug.contains("hunter2secret"), "{debug}");
    assert!(debug.contains("mail.example.org"), "{debug}");
}
