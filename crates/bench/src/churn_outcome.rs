//! What one churn member saw and did, and where a duplicate came, for the report.

use std::collections::HashSet;

use crate::report::Latencies;

/// What one member saw and did.
#[derive(Default)]
pub struct Outcome {
    /// Every distinct message received, `(seq, id)`, in arrival order.
    pub view: Vec<(u64, String)>,
    /// The ids of this sender's messages it sent again on a new connection: their first
    /// copy may be the retry's answer, ahead of its place in `seq` order.
    pub retried: HashSet<String>,
    /// Copies of a message already received (the answer to a retry excepted).
    pub duplicated: usize,
    /// Second copies of a retried message: the server answers a retry of a stored message
    /// with it again, to the sender only (API.md, idempotent sends).
    pub retry_answers: usize,
    /// Connections after the first.
    pub reconnects: usize,
    /// Connections the server ended (or that failed) rather than the member.
    pub ended_by_server: usize,
    /// Connection attempts that failed and were retried.
    pub connect_failures: usize,
    /// Sends whose echo was heard.
    pub sent: usize,
    /// Sends sent again (same `client_id`) on a new connection, their echo not heard yet.
    pub retries: usize,
    /// Sends whose echo never came.
    pub abandoned: usize,
    /// Send-to-receive latency of every benchmark message received (replays included).
    pub latencies: Latencies,
    /// Send-to-echo latency of this member's own messages.
    pub echoes: Latencies,
}

/// A connection, as a duplicate's report names it.
#[derive(Default)]
pub struct Here {
    /// Its number, from 0.
    pub connection: usize,
    /// The instance it went to.
    pub instance: usize,
    /// The `since` it resumed after.
    pub since: String,
    /// Messages received on it so far.
    pub received: usize,
    /// The `seq` of each, and whether it carried this member's client_id.
    pub frames: Vec<(u64, bool)>,
}

impl std::fmt::Display for Here {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connection {} to instance {} after {}, message {} of (seq, own) {:?}",
            self.connection, self.instance, self.since, self.received, self.frames
        )
    }
}
