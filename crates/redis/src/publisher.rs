//! The one task that sends this instance's events to Redis, in the order they were
//! queued, pipelining whatever has piled up since the last round trip.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{mpsc, oneshot};

use crate::link::Shared;

/// Most items sent in one round trip.
const BATCH: usize = 256;

/// Something for the publisher to do.
pub(crate) enum Outgoing {
    /// PUBLISH `payload` on `channel`.
    Event { channel: String, payload: Vec<u8> },
    /// PUBLISH a liveness probe on this instance's probe channel.
    Probe,
    /// Answer once everything queued before has been sent.
    Flush(oneshot::Sender<()>),
}

/// Sends until the link is dropped (the queue closes).
pub(crate) async fn publish(mut queue: mpsc::Receiver<Outgoing>, shared: Arc<Shared>) {
    let probe_channel = shared.keys.probe_channel(&shared.instance);
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        let mut events = 0_u64;
        let mut flushes = Vec::new();
        for item in batch.drain(..) {
            match item {
                Outgoing::Event { channel, payload } => {
                    events += 1;
                    pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
                }
                Outgoing::Probe => {
                    pipe.cmd("PUBLISH").arg(&probe_channel).arg(1).ignore();
                }
                Outgoing::Flush(done) => flushes.push(done),
            }
        }
        if !pipe.is_empty() {
            let sent: redis::RedisResult<()> = pipe.query_async(&mut shared.commands.get()).await;
            if let Err(error) = sent {
                // The subscriber's probe notices an outage; this only counts the loss.
                shared.dropped.fetch_add(events, Ordering::Relaxed);
                tracing::debug!(%error, events, "could not publish to Redis");
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
