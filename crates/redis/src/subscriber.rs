//! The one pub/sub connection of this instance: it subscribes the rooms this instance
//! follows and its own probe channel, hands other instances' events to the listeners in
//! arrival order, and rebuilds itself (resubscribing everything) when it fails or when
//! its probes stop coming back (a wedged subscription looks like an open socket).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::PubSubSink;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior, interval, sleep, timeout};
use whisper_domain::RoomId;

use crate::codec;
use crate::config::LinkTiming;
use crate::link::Shared;
use crate::publisher::Outgoing;

/// A change to what this instance follows, or a question about it.
pub(crate) enum Command {
    Follow(RoomId),
    Unfollow(RoomId),
    /// Answer once every command queued before is in effect on a live connection.
    Sync(oneshot::Sender<()>),
}

/// Why a connection was given up.
enum Ended {
    /// The link was dropped: stop for good.
    Closed,
    /// The connection failed or went silent: build another.
    Failed(String),
}

/// The subscriber task: runs until the link is dropped.
pub(crate) struct Subscriber {
    pub(crate) client: redis::Client,
    pub(crate) shared: Arc<Shared>,
    pub(crate) timing: LinkTiming,
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) outbox: mpsc::Sender<Outgoing>,
    pub(crate) followed: HashSet<RoomId>,
    /// Syncs asked for while no connection was live.
    pub(crate) pending_syncs: Vec<oneshot::Sender<()>>,
}

impl Subscriber {
    pub(crate) async fn run(mut self) {
        let mut backoff = self.timing.reconnect_min;
        loop {
            let started = Instant::now();
            match self.session().await {
                Ended::Closed => return,
                Ended::Failed(why) => {
                    self.shared.health.mark_down(&why);
                    // The command connection may be wedged the same way; a fresh one
                    // costs nothing if it was not.
                    self.shared.commands.renew();
                }
            }
            // A connection that lived a while starts the backoff over.
            if started.elapsed() > self.timing.probe_timeout * 2 {
                backoff = self.timing.reconnect_min;
            }
            if !self.wait(backoff).await {
                return;
            }
            backoff = (backoff * 2).min(self.timing.reconnect_max);
        }
    }

    /// Waits `pause` while applying follow changes to the set (so the next connection
    /// subscribes them); false when the link was dropped meanwhile.
    async fn wait(&mut self, pause: Duration) -> bool {
        let until = sleep(pause);
        tokio::pin!(until);
        loop {
            tokio::select! {
                () = &mut until => return true,
                command = self.commands.recv() => match command {
                    None => return false,
                    Some(Command::Follow(room)) => { self.followed.insert(room); }
                    Some(Command::Unfollow(room)) => { self.followed.remove(&room); }
                    // Answered once a connection is live again.
                    Some(Command::Sync(done)) => self.pending_syncs.push(done),
                },
            }
        }
    }

    /// One connection, from connecting to failing.
    async fn session(&mut self) -> Ended {
        let limit = self.timing.probe_timeout;
        let pubsub = match timeout(limit, self.client.get_async_pubsub()).await {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(error)) => return Ended::Failed(format!("cannot connect: {error}")),
            Err(_) => return Ended::Failed("connecting timed out".into()),
        };
        let (mut sink, mut stream) = pubsub.split();
        let probe_channel = self.shared.keys.probe_channel(&self.shared.instance);
        let mut channels: Vec<String> = self
            .followed
            .iter()
            .map(|room| self.shared.keys.room_channel(room))
            .collect();
        channels.push(probe_channel.clone());
        if let Err(why) = subscribing(&mut sink, true, channels, limit).await {
            return Ended::Failed(why);
        }
        for done in self.pending_syncs.drain(..) {
            let _ = done.send(());
        }
        let mut probes = interval(self.timing.probe_every);
        probes.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_probe = Instant::now();
        loop {
            tokio::select! {
                command = self.commands.recv() => {
                    let Some(command) = command else { return Ended::Closed };
                    if let Err(why) = self.apply(&mut sink, command, limit).await {
                        return Ended::Failed(why);
                    }
                }
                message = stream.next() => {
                    let Some(message) = message else {
                        return Ended::Failed("the connection closed".into());
                    };
                    if message.get_channel_name() == probe_channel {
                        last_probe = Instant::now();
                        self.shared.health.mark_up();
                    } else {
                        self.deliver(message.get_channel_name(), message.get_payload_bytes());
                    }
                }
                _ = probes.tick() => {
                    if last_probe.elapsed() > limit {
                        return Ended::Failed("probes stopped coming back".into());
                    }
                    // A full queue loses the probe; if that lasts, the link counts as down.
                    let _ = self.outbox.try_send(Outgoing::Probe);
                }
            }
        }
    }

    async fn apply(
        &mut self,
        sink: &mut PubSubSink,
        command: Command,
        limit: Duration,
    ) -> Result<(), String> {
        match command {
            Command::Follow(room) => {
                let channel = self.shared.keys.room_channel(&room);
                if self.followed.insert(room) {
                    subscribing(sink, true, vec![channel], limit).await?;
                }
            }
            Command::Unfollow(room) => {
                let channel = self.shared.keys.room_channel(&room);
                if self.followed.remove(&room) {
                    subscribing(sink, false, vec![channel], limit).await?;
                }
            }
            Command::Sync(done) => {
                let _ = done.send(());
            }
        }
        Ok(())
    }

    /// Hands another instance's event to the listeners; own events were heard when they
    /// were published.
    fn deliver(&self, channel: &str, payload: &[u8]) {
        match codec::decode(payload) {
            Ok((from, _)) if from == self.shared.instance => {}
            Ok((_, event)) => {
                for listener in self.shared.listeners.read().iter() {
                    listener(&event);
                }
            }
            Err(error) => tracing::warn!(%error, channel, "skipped an undecodable bus event"),
        }
    }
}

/// SUBSCRIBE (or UNSUBSCRIBE) `channels`, giving up after `limit`.
async fn subscribing(
    sink: &mut PubSubSink,
    subscribe: bool,
    channels: Vec<String>,
    limit: Duration,
) -> Result<(), String> {
    let answer = if subscribe {
        timeout(limit, sink.subscribe(channels)).await
    } else {
        timeout(limit, sink.unsubscribe(channels)).await
    };
    match answer {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("subscribing failed: {error}")),
        Err(_) => Err("subscribing timed out".into()),
    }
}
