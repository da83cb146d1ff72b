//! Background work beside the server: the mail deliverer draining the outbox.

mod outbox_delivery;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use whisper_domain::MailDelivery;

pub use outbox_delivery::run_outbox_delivery;

/// How often the deliverer looks for emails whose retry time came, when nobody wakes it.
const OUTBOX_POLL: Duration = Duration::from_secs(2);

/// The running mail deliverer; stop it with [`MailWorker::stop`].
pub struct MailWorker {
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

impl MailWorker {
    /// Starts delivering through `delivery`; `mail_queued` wakes it when an email was
    /// committed, so mail leaves at once instead of at the next poll.
    pub fn start(delivery: Arc<MailDelivery>, mail_queued: Arc<Notify>) -> Self {
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(run_outbox_delivery(
            delivery,
            OUTBOX_POLL,
            mail_queued,
            async move { stopped.notified().await },
        ));
        Self { stop, task }
    }

    /// Lets a delivery pass in progress finish, then stops.
    pub async fn stop(self) {
        self.stop.notify_one();
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "mail delivery task failed");
        }
    }
}
