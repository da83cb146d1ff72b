//! The multi-instance harness: real `whisper serve` processes on one database, a Redis of
//! their own or the shared one, people signing up over HTTP and WebSocket clients.

mod burst;
mod instances;
pub mod nginx;
mod people;
mod postgres;
mod process;
mod ready_line;
mod redis;
mod sockets;

use std::net::TcpListener;
use std::time::Duration;

pub use burst::{Ending, View, assert_view_is_history, read_until_gone, send_until_gone};
pub use instances::{Cluster, Launch};
pub use people::Member;
pub use postgres::PostgresServer;
pub use redis::{RedisServer, SHARED_REDIS_URL};
pub use sockets::{
    PROMPTLY, active_is, assert_once_in_seq_order, ids, message, messages_until, seqs, wait_for,
};

/// Generous: only something broken takes this long.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
