//! A benchmark WebSocket client: TCP_NODELAY, Bearer authentication, frames as JSON.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, anyhow};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use whisper_http::routes;
use whisper_wire::{ClientCommand, ServerEvent, TextMessage};

type Socket = WebSocketStream<TcpStream>;

/// The sending half.
pub type Sender = SplitSink<Socket, Message>;
/// The receiving half.
pub type Receiver = SplitStream<Socket>;

/// Frames here are small; the default 128 KiB read buffer per socket would cost gigabytes
/// of address space at tens of thousands of sockets.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// Connects to room `room` of the server at `base` (`http://host:port`) as `access`, from
/// `source` when given (one source address has only ~28,000 ephemeral ports).
pub async fn connect(
    base: &str,
    room: &str,
    access: &str,
    source: Option<IpAddr>,
) -> anyhow::Result<(Sender, Receiver)> {
    open(base, room, "", access, source).await
}

/// Connects like [`connect`], resuming after message `since` (`?since=`).
pub async fn resume(
    base: &str,
    room: &str,
    access: &str,
    since: &str,
) -> anyhow::Result<(Sender, Receiver)> {
    open(base, room, &format!("?since={since}"), access, None).await
}

async fn open(
    base: &str,
    room: &str,
    query: &str,
    access: &str,
    source: Option<IpAddr>,
) -> anyhow::Result<(Sender, Receiver)> {
    let ws_base = base.replacen("http", "ws", 1);
    let path = routes::path(routes::CHAT_SOCKET, &[room]);
    let mut request = format!("{ws_base}{path}{query}").into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {access}").parse()?);
    let host = request
        .uri()
        .host()
        .ok_or_else(|| anyhow!("no host in {base}"))?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = request.uri().port_u16().unwrap_or(80);
    let stream = tcp_connect(&host, port, source)
        .await
        .with_context(|| format!("connecting to {host}:{port} for room {room}"))?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .with_context(|| format!("opening a WebSocket to room {room}"))?;
    Ok(socket.split())
}

/// A TCP connection with Nagle's algorithm off, bound to `source` first when given.
async fn tcp_connect(host: &str, port: u16, source: Option<IpAddr>) -> anyhow::Result<TcpStream> {
    let address = tokio::net::lookup_host((host, port))
        .await?
        .find(|address| source.is_none_or(|source| source.is_ipv4() == address.is_ipv4()))
        .ok_or_else(|| anyhow!("{host} has no address of the source's family"))?;
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(source) = source {
        socket
            .bind(SocketAddr::new(source, 0))
            .with_context(|| format!("binding to {source}"))?;
    }
    let stream = socket.connect(address).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends a text message.
pub async fn send_text(sender: &mut Sender, text: &str) -> anyhow::Result<()> {
    let frame = serde_json::to_string(&ClientCommand::message(text))?;
    sender.send(Message::text(frame)).await?;
    Ok(())
}

/// Sends a text message carrying `client_id`: a retry with it is stored once.
pub async fn send_identified(
    sender: &mut Sender,
    text: &str,
    client_id: &str,
) -> anyhow::Result<()> {
    let command = ClientCommand::Message(TextMessage {
        message: text.to_owned(),
        client_id: Some(client_id.to_owned()),
    });
    sender
        .send(Message::text(serde_json::to_string(&command)?))
        .await?;
    Ok(())
}

/// The next event, or `None` when the socket closed.
/// What the messaging listeners read of a frame: its type and, for a message, its text
/// (a message's fields are at the frame's top level). Borrowed from the frame, every other
/// field skipped: parsing the whole `ServerEvent` cost the client as much CPU as the server
/// spent sending.
#[derive(Deserialize)]
struct Glimpse<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    text_content: Option<Cow<'a, str>>,
}

/// The next frame: `Some(Some(text))` for a text message, `Some(None)` for any other frame,
/// `None` once the socket closed.
pub async fn next_message_text(receiver: &mut Receiver) -> anyhow::Result<Option<Option<String>>> {
    loop {
        match receiver.next().await {
            Some(Ok(Message::Text(text))) => {
                let glimpse: Glimpse<'_> =
                    serde_json::from_str(&text).map_err(|e| anyhow!("bad frame: {e}"))?;
                let text = (glimpse.kind == "chat.message")
                    .then_some(glimpse.text_content)
                    .flatten();
                return Ok(Some(text.map(Cow::into_owned)));
            }
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
        }
    }
}

pub async fn next_event(receiver: &mut Receiver) -> anyhow::Result<Option<ServerEvent>> {
    loop {
        match receiver.next().await {
            Some(Ok(Message::Text(text))) => {
                return Ok(Some(
                    serde_json::from_str(&text).map_err(|e| anyhow!("bad frame: {e}"))?,
                ));
            }
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
        }
    }
}
