//! The outbox delivery loop with the real mailer and a real SMTP server on loopback, over an
//! in-memory outbox.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use whisper_app::workers::run_outbox_delivery;
use whisper_domain::ports::MailOutbox;
use whisper_domain::{
    DomainError, DomainResult, Email, MailDelivery, OutboxItem, OutgoingEmail, RetryPolicy,
    Service, SystemClock, Username,
};
use whisper_smtp::testing::SmtpSink;
use whisper_smtp::{MailTransport, SmtpMailer};

const SENDER: &str = "Whisper <noreply@whisper.localhost>";
const WAIT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Queued,
    Sent,
    Abandoned(String),
}

#[derive(Debug, Clone)]
struct Entry {
    item: OutboxItem,
    due: DateTime<Utc>,
    leased_until: Option<DateTime<Utc>>,
    status: Status,
    last_error: Option<String>,
}

/// The outbox port over a vector, with a switch to make it fail like a database that is down.
#[derive(Default)]
struct MemoryOutbox {
    entries: Mutex<Vec<Entry>>,
    failing_claims: AtomicU32,
    claims: AtomicU32,
}

impl MemoryOutbox {
    fn queue(&self, email: OutgoingEmail) -> i64 {
        let mut entries = self.entries.lock().unwrap();
        let id = i64::try_from(entries.len()).unwrap() + 1;
        let now = Utc::now();
        entries.push(Entry {
            item: OutboxItem {
                id,
                email,
                failed_attempts: 0,
                queued_at: now,
            },
            due: now,
            leased_until: None,
            status: Status::Queued,
            last_error: None,
        });
        id
    }

    fn entry(&self, id: i64) -> Entry {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .find(|entry| entry.item.id == id)
            .cloned()
            .unwrap()
    }

    /// How many times the outbox was asked for due emails.
    fn claims(&self) -> u32 {
        self.claims.load(Ordering::SeqCst)
    }

    fn fail_next_claims(&self, count: u32) {
        self.failing_claims.store(count, Ordering::SeqCst);
    }
}

#[async_trait]
impl MailOutbox for MemoryOutbox {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> DomainResult<Vec<OutboxItem>> {
        self.claims.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .failing_claims
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(DomainError::Unavailable(Service::Database));
        }
        let mut entries = self.entries.lock().unwrap();
        let mut claimed = Vec::new();
        for entry in entries.iter_mut() {
            if claimed.len() >= usize::try_from(limit).unwrap() {
                break;
            }
            let free = entry.leased_until.is_none_or(|until| until <= now);
            if entry.status == Status::Queued && entry.due <= now && free {
                entry.leased_until = Some(lease_until);
                claimed.push(entry.item.clone());
            }
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, id: i64) -> DomainResult<()> {
        self.update(id, |entry| entry.status = Status::Sent);
        Ok(())
    }

    async fn reschedule(
        &self,
        id: i64,
        retry_at: DateTime<Utc>,
        failed_attempts: u32,
        reason: &str,
    ) -> DomainResult<()> {
        self.update(id, |entry| {
            entry.due = retry_at;
            entry.leased_until = None;
            entry.item.failed_attempts = failed_attempts;
            entry.last_error = Some(reason.to_owned());
        });
        Ok(())
    }

    async fn abandon(&self, id: i64, reason: &str) -> DomainResult<()> {
        self.update(id, |entry| {
            entry.status = Status::Abandoned(reason.to_owned())
        });
        Ok(())
    }
}

impl MemoryOutbox {
    fn update(&self, id: i64, change: impl FnOnce(&mut Entry)) {
        let mut entries = self.entries.lock().unwrap();
        let entry = entries.iter_mut().find(|e| e.item.id == id).unwrap();
        change(entry);
    }
}

/// A verification email to `<name>@example.org` linking to `http://whisper.test/verify/<name>/`.
fn verify_email(name: &str) -> OutgoingEmail {
    OutgoingEmail::VerifyEmail {
        to: Email::parse(&format!("{name}@example.org")).unwrap(),
        username: Username::parse("ada").unwrap(),
        link: format!("http://whisper.test/verify/{name}/"),
        expires_in_minutes: 10,
    }
}

fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        first_delay: chrono::Duration::milliseconds(50),
        max_delay: chrono::Duration::milliseconds(200),
        lease: chrono::Duration::seconds(30),
        batch_size: 10,
    }
}

struct Worker {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Worker {
    fn spawn(
        outbox: Arc<MemoryOutbox>,
        smtp_port: u16,
        poll_every: Duration,
        wake: Arc<Notify>,
    ) -> Self {
        let transport = MailTransport::parse(&format!("smtp://127.0.0.1:{smtp_port}")).unwrap();
        let mailer = SmtpMailer::with_timeout(&transport, SENDER, Duration::from_secs(5)).unwrap();
        let delivery = Arc::new(MailDelivery::new(
            outbox,
            Arc::new(mailer),
            Arc::new(SystemClock),
            quick_policy(),
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(run_outbox_delivery(delivery, poll_every, wake, shutdown));
        Self { stop, task }
    }

    /// A worker that only polls: nobody wakes it.
    fn polling(outbox: Arc<MemoryOutbox>, smtp_port: u16, poll_every: Duration) -> Self {
        Self::spawn(outbox, smtp_port, poll_every, Arc::new(Notify::new()))
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the worker stops on shutdown")
            .unwrap();
    }
}

/// Polls `condition` until it holds, failing the test after a generous deadline.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let waiting = async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(WAIT, waiting)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting until {what}"));
}

/// Waits until the email `id` is marked sent.
async fn marked_sent(outbox: &MemoryOutbox, id: i64) {
    eventually("the email is marked sent", || {
        outbox.entry(id).status == Status::Sent
    })
    .await;
}

#[tokio::test]
async fn mail_queued_during_an_smtp_outage_is_kept_and_delivered_once_the_server_is_back() {
    // A port where nothing listens: the mail server is down.
    let sink = SmtpSink::start().await.unwrap();
    let port = sink.port();
    sink.stop().await;

    let outbox = Arc::new(MemoryOutbox::default());
    let id = outbox.queue(verify_email("ada"));
    let worker = Worker::polling(Arc::clone(&outbox), port, Duration::from_millis(20));

    // The worker keeps trying with backoff; the email stays queued, it is not lost.
    eventually("two delivery attempts failed", || {
        outbox.entry(id).item.failed_attempts >= 2
    })
    .await;
    let during_outage = outbox.entry(id);
    assert_eq!(during_outage.status, Status::Queued);
    assert!(during_outage.last_error.is_some());

    // The server comes back on the same port.
    let sink = SmtpSink::start_on(port).await.unwrap();
    let message = sink
        .wait_for_message(|m| m.to == ["ada@example.org"], WAIT)
        .await
        .expect("the email arrives once the server is back");
    assert_eq!(
        message.first_link().as_deref(),
        Some("http://whisper.test/verify/ada/")
    );
    marked_sent(&outbox, id).await;

    // Let a few more passes run: a sent email is never sent again.
    let claims = outbox.claims();
    eventually("more passes ran", || outbox.claims() >= claims + 3).await;
    assert_eq!(sink.messages().len(), 1);

    worker.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn a_wake_up_sends_a_freshly_queued_email_without_waiting_for_the_next_poll() {
    let sink = SmtpSink::start().await.unwrap();
    let outbox = Arc::new(MemoryOutbox::default());
    let wake = Arc::new(Notify::new());
    // The poll interval is far longer than the test's deadline: only the wake-up can help.
    let worker = Worker::spawn(
        Arc::clone(&outbox),
        sink.port(),
        Duration::from_secs(3600),
        Arc::clone(&wake),
    );
    eventually("the worker's first pass ran", || outbox.claims() >= 1).await;

    let id = outbox.queue(verify_email("bob"));
    wake.notify_one();

    sink.wait_for_message(|m| m.to == ["bob@example.org"], WAIT)
        .await
        .expect("the woken worker sent the email");
    marked_sent(&outbox, id).await;
    worker.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn an_unavailable_outbox_is_retried_and_does_not_stop_the_worker() {
    let sink = SmtpSink::start().await.unwrap();
    let outbox = Arc::new(MemoryOutbox::default());
    outbox.fail_next_claims(3);
    let id = outbox.queue(verify_email("cy"));
    let worker = Worker::polling(Arc::clone(&outbox), sink.port(), Duration::from_millis(20));

    sink.wait_for_message(|m| m.to == ["cy@example.org"], WAIT)
        .await
        .expect("the email is sent once the outbox answers again");
    assert!(outbox.claims() >= 4);
    marked_sent(&outbox, id).await;
    worker.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn a_permanently_refused_email_is_abandoned_not_retried() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_reply(whisper_smtp::testing::SinkReply::Refuse);
    let outbox = Arc::new(MemoryOutbox::default());
    let id = outbox.queue(verify_email("dan"));
    let worker = Worker::polling(Arc::clone(&outbox), sink.port(), Duration::from_millis(20));

    eventually("the email is abandoned", || {
        matches!(outbox.entry(id).status, Status::Abandoned(_))
    })
    .await;
    assert_eq!(outbox.entry(id).item.failed_attempts, 0);
    worker.stop().await;
    sink.stop().await;
}

#[tokio::test]
async fn the_worker_stops_when_shutdown_completes() {
    let outbox = Arc::new(MemoryOutbox::default());
    let worker = Worker::polling(Arc::clone(&outbox), 1, Duration::from_secs(3600));
    eventually("the first pass ran", || outbox.claims() >= 1).await;
    worker.stop().await;
}
