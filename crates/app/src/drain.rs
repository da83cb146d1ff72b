//! Graceful drain on SIGTERM or SIGINT: stop accepting, let every socket finish the
//! command in hand and close with 1001 so its client resumes on another instance, let open
//! requests finish, all within the shutdown timeout. A second signal cuts it short.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{SignalKind, signal};
use whisper_ws::Hub;

/// Waits for a termination signal, then drains `server` and `hub`; returns once the server
/// has stopped (or never, without a signal). `timeout` is the server's own shutdown timeout,
/// only logged here: actix enforces it on the open connections.
pub async fn on_signal(server: ServerHandle, hub: Arc<Hub>, timeout: Duration) {
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT drains");
            return interrupt_only(server, hub, timeout).await;
        }
    };
    let received = tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    };
    let stopped = start(&server, &hub, timeout, received);
    tokio::select! {
        () = stopped => tracing::info!("drained"),
        _ = terminate.recv() => cut_short(&server).await,
        _ = tokio::signal::ctrl_c() => cut_short(&server).await,
    }
}

async fn interrupt_only(server: ServerHandle, hub: Arc<Hub>, timeout: Duration) {
    if tokio::signal::ctrl_c().await.is_ok() {
        start(&server, &hub, timeout, "SIGINT").await;
    }
}

/// Stops accepting and tells every socket to close; the returned future completes when
/// the last connection has ended or the timeout cut the rest.
fn start(
    server: &ServerHandle,
    hub: &Hub,
    timeout: Duration,
    signal: &'static str,
) -> impl Future<Output = ()> + use<> {
    tracing::info!(
        signal,
        sockets = hub.connections(),
        timeout_secs = timeout.as_secs(),
        "draining: no new connections; sockets close with 1001 once their command is answered"
    );
    // The stop command is sent at once; the future only reports its end.
    let stopped = server.stop(true);
    hub.drain();
    stopped
}

async fn cut_short(server: &ServerHandle) {
    tracing::warn!("second signal: stopping without waiting for open connections");
    server.stop(false).await;
}
