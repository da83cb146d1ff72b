//! One member of the churn room: connects, reads, sends in a closed loop when it is a
//! sender, and drops its socket at random moments to resume with `?since=` on a random
//! instance, until it has read the closing message.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::SinkExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Notify, Semaphore, watch};
use whisper_wire::ServerEvent;

use crate::churn_outcome::{Here, Outcome};
use crate::messaging::{now_micros, parse};
use crate::socket::{self, Receiver, Sender};

/// The text every member reads up to.
pub const END_TEXT: &str = "churn-end";
/// How long a sender waits for its echo before counting the send as never stored.
const ECHO_WAIT: Duration = Duration::from_secs(30);
/// How many times one connection is tried before the member gives up.
const CONNECT_ATTEMPTS: u32 = 30;
/// How long a member that stopped churning may wait for any frame.
const SILENCE: Duration = Duration::from_secs(60);

/// What every member shares.
pub struct Shared {
    /// `http://host:port` of every instance.
    pub urls: Vec<String>,
    /// The room.
    pub room: String,
    /// How many members send (members 0 to senders - 1).
    pub senders: usize,
    /// Messages per sender.
    pub messages: usize,
    /// Mean time a connection stays open; `None`: nobody disconnects.
    pub churn_every: Option<Duration>,
    /// The seed of every member's random choices.
    pub seed: u64,
    /// True once the senders are done: members stop disconnecting and read to the end.
    pub ending: watch::Receiver<bool>,
    /// Senders still sending; `finished` is notified when it reaches 0.
    pub sending: AtomicUsize,
    /// Notified when the last sender is done.
    pub finished: Notify,
    /// Connections being opened at once.
    pub connecting: Semaphore,
}

/// A send waiting for its echo.
struct Outstanding {
    text: String,
    give_up: tokio::time::Instant,
    /// Whether it was sent again on a later connection.
    retried: bool,
}

/// Member `me`, holding `access`, resuming after `start` from its first connection on.
pub async fn run(me: usize, access: String, start: String, shared: Arc<Shared>) -> Outcome {
    let mut member = Member {
        me,
        access,
        last_id: start,
        seen: HashMap::new(),
        here: Here::default(),
        rng: StdRng::seed_from_u64(shared.seed ^ (me as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        next: 0,
        outstanding: None,
        out: Outcome::default(),
        shared,
    };
    if let Err(error) = member.live().await {
        eprintln!("member {me} gave up: {error:#}");
    }
    member.out
}

struct Member {
    me: usize,
    access: String,
    /// The id of the last message received, where the next connection resumes.
    last_id: String,
    /// Where each message received first came (connection, message number on it): for
    /// the report of a duplicate.
    seen: HashMap<String, (usize, usize)>,
    /// The current connection.
    here: Here,
    rng: StdRng,
    /// The number of this sender's next message.
    next: usize,
    outstanding: Option<Outstanding>,
    out: Outcome,
    shared: Arc<Shared>,
}

impl Member {
    fn is_sender(&self) -> bool {
        self.me < self.shared.senders
    }

    /// Connection after connection, until the closing message was read.
    async fn live(&mut self) -> anyhow::Result<()> {
        let mut ending = self.shared.ending.clone();
        for connection in 0usize.. {
            let instance = if connection == 0 {
                self.me % self.shared.urls.len()
            } else {
                self.out.reconnects += 1;
                self.rng.random_range(0..self.shared.urls.len())
            };
            let (mut sender, mut receiver) = self.connect(instance).await?;
            self.here = Here {
                connection,
                instance,
                since: self.last_id.clone(),
                received: 0,
                frames: Vec::new(),
            };
            let lifetime = match self.shared.churn_every {
                Some(mean) if !*ending.borrow() => mean.mul_f64(self.rng.random_range(0.0..2.0)),
                _ => Duration::MAX,
            };
            let cut = tokio::time::sleep(lifetime.min(Duration::from_secs(86_400)));
            let mut cut = std::pin::pin!(cut);
            let mut churning = lifetime != Duration::MAX;
            // The server may not have read a send the last connection carried: again, with
            // the same client_id, so it is stored once.
            let sent = match &mut self.outstanding {
                Some(outstanding) => {
                    outstanding.retried = true;
                    self.out.retries += 1;
                    let text = &outstanding.text;
                    socket::send_identified(&mut sender, text, text)
                        .await
                        .is_ok()
                }
                None => self.send_next(&mut sender).await,
            };
            if !sent {
                continue;
            }
            loop {
                let give_up = self.outstanding.as_ref().map(|o| o.give_up);
                let far = tokio::time::Instant::now() + SILENCE;
                tokio::select! {
                    _ = &mut cut, if churning => {
                        // A close frame first, so what was sent is read before the end.
                        let _ = sender.close().await;
                        break;
                    }
                    changed = ending.changed(), if churning => {
                        churning = changed.is_err() || !*ending.borrow();
                    }
                    _ = tokio::time::sleep_until(give_up.unwrap_or(far)), if give_up.is_some() => {
                        self.outstanding = None;
                        self.out.abandoned += 1;
                        if !self.send_next(&mut sender).await {
                            break;
                        }
                    }
                    event = tokio::time::timeout(SILENCE, socket::next_event(&mut receiver)) => {
                        match event {
                            Ok(Ok(Some(ServerEvent::Message(event)))) => {
                                let (seq, id) = (event.message.seq, event.message.id);
                                let text = event.message.text_content.unwrap_or_default();
                                if self.heard(seq, id, &text, event.client_id.is_some()) {
                                    return Ok(());
                                }
                                if self.outstanding.as_ref().is_some_and(|o| o.text == text) {
                                    self.outstanding = None;
                                    if !self.send_next(&mut sender).await {
                                        break;
                                    }
                                }
                            }
                            Ok(Ok(Some(_))) => {}
                            Ok(Ok(None) | Err(_)) => {
                                self.out.ended_by_server += 1;
                                break;
                            }
                            Err(_) => bail!("no frame for {SILENCE:?}"),
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Records a received message (`own`: carrying this member's client_id); true when it
    /// is the closing one.
    fn heard(&mut self, seq: u64, id: String, text: &str, own: bool) -> bool {
        self.here.received += 1;
        self.here.frames.push((seq, own));
        if let Some((connection, number)) = self.seen.get(&id) {
            // Either copy may be the retry's answer (with the client_id), the other the
            // announcement (without it when this instance read the message from the record).
            if self.out.retried.contains(&id) {
                self.out.retry_answers += 1;
            } else {
                self.out.duplicated += 1;
                eprintln!(
                    "member {} received message {id} (seq {seq}, own {own}) twice: first as \
                     message {number} of connection {connection}, again on {}",
                    self.me, self.here
                );
            }
            return false;
        }
        let first = (self.here.connection, self.here.received);
        self.seen.insert(id.clone(), first);
        if let Some(outstanding) = self.outstanding.as_ref().filter(|o| o.text == text)
            && outstanding.retried
        {
            self.out.retried.insert(id.clone());
        }
        if let Some((sender, _, sent)) = parse(text) {
            let latency = now_micros().saturating_sub(sent);
            self.out.latencies.record(latency);
            if sender == self.me {
                self.out.echoes.record(latency);
                self.out.sent += 1;
            }
        }
        self.last_id.clone_from(&id);
        self.out.view.push((seq, id));
        text == END_TEXT
    }

    /// Sends this sender's next message, if any is left; false when the socket failed.
    async fn send_next(&mut self, sender: &mut Sender) -> bool {
        if !self.is_sender() || self.next > self.shared.messages {
            return true;
        }
        if self.next == self.shared.messages {
            self.next += 1;
            if self.shared.sending.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.shared.finished.notify_one();
            }
            return true;
        }
        let text = format!("b|{}|{}|{}", self.me, self.next, now_micros());
        self.next += 1;
        let sent = socket::send_identified(sender, &text, &text).await.is_ok();
        // Sent or not, the server may have it: the echo (or a replay) tells.
        self.outstanding = Some(Outstanding {
            text,
            give_up: tokio::time::Instant::now() + ECHO_WAIT,
            retried: false,
        });
        sent
    }

    /// A socket to `instance` resuming after the last message seen, retried while refused.
    async fn connect(&mut self, instance: usize) -> anyhow::Result<(Sender, Receiver)> {
        let url = &self.shared.urls[instance];
        let mut attempt = 0;
        loop {
            let permit = self.shared.connecting.acquire().await?;
            let began = Instant::now();
            let opened = socket::resume(url, &self.shared.room, &self.access, &self.last_id).await;
            drop(permit);
            match opened {
                Ok(socket) => return Ok(socket),
                Err(error) if attempt + 1 >= CONNECT_ATTEMPTS => {
                    bail!("connecting to {url} {CONNECT_ATTEMPTS} times: {error:#}")
                }
                Err(_) => {
                    attempt += 1;
                    self.out.connect_failures += 1;
                    let pause = Duration::from_millis(50 * u64::from(attempt));
                    tokio::time::sleep(pause.saturating_sub(began.elapsed())).await;
                }
            }
        }
    }
}
