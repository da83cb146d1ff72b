//! The background task that drains the mail outbox.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tracing::{debug, info, warn};

use whisper_domain::MailDelivery;

/// Delivers due emails until `shutdown` completes.
///
/// After a pass that sent, rescheduled or abandoned something it runs another pass at once;
/// otherwise it waits `poll_every`, or less when `wake.notify_one()` announces a freshly
/// queued email (a notification sent while a pass runs is kept for the next wait). When the
/// outbox itself fails (the database is down), the error is logged and the next tick tries
/// again: the loop never ends on an error.
///
/// `shutdown` is watched between passes: a pass in progress finishes first, so an email
/// accepted by the server is also marked sent. Abort the task if that must not be waited for.
pub async fn run_outbox_delivery(
    delivery: Arc<MailDelivery>,
    poll_every: Duration,
    wake: Arc<Notify>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    info!(
        poll_every_ms = poll_every.as_millis(),
        "mail delivery started"
    );
    let mut outbox_down = false;
    loop {
        let did_work = match delivery.deliver_due().await {
            Ok(report) => {
                if outbox_down {
                    outbox_down = false;
                    info!("mail outbox reachable again");
                }
                let did_work = report.sent + report.rescheduled + report.abandoned > 0;
                if did_work {
                    info!(
                        sent = report.sent,
                        rescheduled = report.rescheduled,
                        abandoned = report.abandoned,
                        "mail delivery pass"
                    );
                }
                did_work
            }
            Err(error) => {
                // Once per outage, not on every tick.
                if !outbox_down {
                    outbox_down = true;
                    warn!(%error, "mail outbox unavailable; retrying every tick");
                }
                false
            }
        };
        if did_work {
            // Yield so a shutdown (or anything else on this thread) is not starved by a
            // long queue.
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::task::yield_now() => continue,
            }
        }
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = wake.notified() => debug!("mail delivery woken"),
            () = tokio::time::sleep(poll_every) => {}
        }
    }
    info!("mail delivery stopped");
}
