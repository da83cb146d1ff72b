//! A benchmark WebSocket client: TCP_NODELAY, Bearer authentication, frames as JSON.

use anyhow::{Context, anyhow};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The sending half.
pub type Sender = SplitSink<Socket, Message>;
/// The receiving half.
pub type Receiver = SplitStream<Socket>;

/// Connects to room `room` of the server at `base` (`http://host:port`) as `access`.
pub async fn connect(base: &str, room: &str, access: &str) -> anyhow::Result<(Sender, Receiver)> {
    let ws_base = base.replacen("http", "ws", 1);
    let mut request = format!("{ws_base}/ws/chat/{room}/").into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {access}").parse()?);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .with_context(|| format!("connecting to room {room}"))?;
    Ok(socket.split())
}

/// Sends a text message.
pub async fn send_text(sender: &mut Sender, text: &str) -> anyhow::Result<()> {
    let frame = serde_json::json!({"message_type": "message", "message": text}).to_string();
    sender.send(Message::text(frame)).await?;
    Ok(())
}

/// The next JSON event, or `None` when the socket closed.
pub async fn next_event(receiver: &mut Receiver) -> anyhow::Result<Option<Value>> {
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
