//! Members who send and read in tasks of their own while the test breaks something: each
//! send waits for its echo (the server's acknowledgement that it is stored), and progress
//! is published so the test acts mid-burst on a count, not after a sleep.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use whisper_e2e::ws::{Received, WsClient};

use super::{DEADLINE, assert_once_in_seq_order, ids, message};

/// How a connection's reading ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// Still open: the task did what it was asked.
    Open,
    /// The server went away (closed or dropped the connection).
    Gone,
}

/// What one member's connection received, in order.
#[derive(Debug, Default)]
pub struct View {
    /// Every `chat.message`, as it arrived.
    pub messages: Vec<Value>,
    /// The close frame's code, once the server closed the connection with one
    /// (`Some(None)`: a close frame without a code).
    pub closed_with: Option<Option<u16>>,
}

impl View {
    /// The messages that were this sender's own echoes (they carry its `client_id`).
    pub fn echoes(&self) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m.get("client_id").is_some_and(|id| !id.is_null()))
            .collect()
    }

    /// The id of the last message received.
    pub fn last_id(&self) -> Option<String> {
        let last = self.messages.last()?;
        Some(last["id"].as_str()?.to_owned())
    }

    /// Reads until the message whose text is `text` arrives; `Gone` if the connection
    /// ends first.
    pub async fn read_until(&mut self, socket: &mut WsClient, text: &str) -> Ending {
        loop {
            match socket.recv(DEADLINE).await {
                Received::Event(event) if event["type"] == "chat.message" => {
                    let done = event["text_content"] == text;
                    self.messages.push(event);
                    if done {
                        return Ending::Open;
                    }
                }
                Received::Event(_) => {}
                Received::Closed(code, _) => {
                    self.closed_with = Some(code);
                    return Ending::Gone;
                }
                Received::Ended(_) => return Ending::Gone,
                Received::TimedOut => panic!(
                    "{text:?} never arrived; {} messages did",
                    self.messages.len()
                ),
            }
        }
    }

    /// Reads until the connection ends, publishing how many messages arrived to `count`.
    pub async fn read_until_gone(&mut self, socket: &mut WsClient, count: &watch::Sender<usize>) {
        loop {
            match socket.recv(DEADLINE).await {
                Received::Event(event) if event["type"] == "chat.message" => {
                    self.messages.push(event);
                    count.send_replace(self.messages.len());
                }
                Received::Event(_) => {}
                Received::Closed(code, _) => {
                    self.closed_with = Some(code);
                    return;
                }
                Received::Ended(_) => return,
                Received::TimedOut => panic!("the connection stayed open and silent"),
            }
        }
    }

    /// Sends `<who>-<n>` for each `n` of `numbers`, each after the echo of the one
    /// before, counting echoes in `echoes`; `Gone` when the connection fails.
    pub async fn send_acknowledged(
        &mut self,
        socket: &mut WsClient,
        who: &str,
        numbers: std::ops::Range<usize>,
        echoes: &watch::Sender<usize>,
    ) -> Ending {
        for n in numbers {
            let text = format!("{who}-{n}");
            if socket.try_send_json(&message(&text, &text)).await.is_err() {
                return Ending::Gone;
            }
            if self.read_until(socket, &text).await == Ending::Gone {
                return Ending::Gone;
            }
            echoes.send_modify(|count| *count += 1);
        }
        Ending::Open
    }
}

/// Panics unless `view` holds exactly `stored`, in its order.
pub fn assert_view_is_history(who: &str, view: &View, stored: &[Value]) {
    assert_once_in_seq_order(who, &view.messages);
    assert_eq!(
        ids(&view.messages),
        ids(stored),
        "{who} missed or reordered messages"
    );
}

/// `who` sends on `socket` until its instance goes away (far more than can be sent before
/// the test ends it), each send after the echo of the one before, counting echoes.
pub fn send_until_gone(
    mut socket: WsClient,
    who: &str,
    echoes: &Arc<watch::Sender<usize>>,
) -> JoinHandle<View> {
    let (who, echoes) = (who.to_owned(), echoes.clone());
    tokio::spawn(async move {
        let mut view = View::default();
        let ending = view
            .send_acknowledged(&mut socket, &who, 0..100_000, &echoes)
            .await;
        assert_eq!(ending, Ending::Gone, "{who}");
        view
    })
}

/// Reads on `socket` until its instance goes away, publishing how many messages came.
pub fn read_until_gone(
    mut socket: WsClient,
    count: &Arc<watch::Sender<usize>>,
) -> JoinHandle<View> {
    let count = count.clone();
    tokio::spawn(async move {
        let mut view = View::default();
        view.read_until_gone(&mut socket, &count).await;
        view
    })
}
