//! `whisper-bare-broadcast`: the ceiling for WebSocket fan-out on this machine. A chat
//! broadcast on the real server's stack (actix-web + actix-ws, TCP_NODELAY, one worker per
//! core, bounded per-connection queues) without persistence or authentication, so
//! `whisper-bench --bare` can compare the real server's delivery rate with it.

mod connection;
mod rooms;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;
use clap::Parser;

use crate::rooms::Rooms;
use whisper_http::routes;

/// Serves a bare broadcast: every chat message reaches every socket of its room.
#[derive(Debug, Parser)]
#[command(version)]
struct Options {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8001")]
    addr: SocketAddr,
}

/// Largest frame accepted from a client; chat text is small.
const MAX_FRAME_BYTES: usize = 64 * 1024;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let rooms = web::Data::from(Arc::new(Rooms::default()));
    let workers = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    HttpServer::new(move || {
        App::new()
            .app_data(rooms.clone())
            .route(routes::HEALTH_READY, web::get().to(HttpResponse::Ok))
            .route(routes::CHAT_SOCKET, web::get().to(chat))
    })
    .workers(workers)
    .on_connect(disable_nagle)
    .bind(options.addr)
    .with_context(|| format!("--addr: cannot listen on {}", options.addr))?
    .run()
    .await
    .context("server stopped with an error")
}

/// Upgrades to a WebSocket in `room`, whoever asks (no Authorization check).
async fn chat(
    request: HttpRequest,
    body: web::Payload,
    room: web::Path<String>,
    rooms: web::Data<Rooms>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&request, body)?;
    let stream = stream
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    actix_web::rt::spawn(connection::serve(
        rooms.into_inner(),
        room.into_inner(),
        session,
        stream,
    ));
    Ok(response)
}

/// Like the real server: without it a burst's every second frame waits for a delayed ACK.
fn disable_nagle(connection: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(socket) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
        && let Err(error) = socket.set_nodelay(true)
    {
        eprintln!("could not disable Nagle's algorithm: {error}");
    }
}
