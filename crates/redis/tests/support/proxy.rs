//! A TCP proxy between a link and Redis that can freeze: stop forwarding in both
//! directions while keeping every socket open, as a wedged network path does.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards connections to `upstream` until frozen.
pub struct FreezingProxy {
    pub port: u16,
    /// The gate connections accepted now pass through; replacing it leaves the older
    /// connections behind their old gate.
    gate: Arc<Mutex<watch::Sender<bool>>>,
}

impl FreezingProxy {
    pub async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let gate = Arc::new(Mutex::new(watch::Sender::new(false)));
        let current = gate.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let frozen = current.lock().unwrap().subscribe();
                tokio::spawn(forward(client_read, server_write, frozen.clone()));
                tokio::spawn(forward(server_read, client_write, frozen));
            }
        });
        Self { port, gate }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops forwarding without closing anything, for every connection, old or new.
    pub fn freeze(&self) {
        self.gate.lock().unwrap().send_replace(true);
    }

    /// Forwards new connections; the frozen ones stay frozen for good, as connections
    /// through a dead path do.
    pub fn open_new_connections(&self) {
        let frozen_for_good =
            std::mem::replace(&mut *self.gate.lock().unwrap(), watch::Sender::new(false));
        // Leaked so the old connections' receivers never see their gate close.
        std::mem::forget(frozen_for_good);
    }
}

async fn forward(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        if frozen.wait_for(|frozen| !frozen).await.is_err() {
            return;
        }
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        // Bytes read just before a freeze are held back too.
        if frozen.wait_for(|frozen| !frozen).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
