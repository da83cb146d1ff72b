//! A WebSocket client for `/ws/chat/<room_id>/`, talking the way an API client or the room
//! page does: Bearer (or session cookie + `Origin`) authentication, JSON text frames, binary
//! media frames (`json + <delimiter> + bytes`), server events read with deadlines.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Message};

use whisper_smtp::testing::SmtpSink;
pub use whisper_wire::DELIMITER;
use whisper_wire::{ClientCommand, HistoryBody, ServerEvent};

use crate::TestApp;

/// A generous deadline for anything the server should do promptly.
pub const PROMPTLY: Duration = Duration::from_secs(10);

/// A byte stream a socket runs over: plain TCP, or TLS over it (`wss://`).
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

type Socket = WebSocketStream<Box<dyn Transport>>;

/// A connection the server refused before the upgrade.
#[derive(Debug)]
pub struct Refused {
    /// The HTTP status of the refusal.
    pub status: u16,
    /// The response body, when it arrived with the headers and was JSON.
    pub body: Option<Value>,
}

/// What one read from the socket gave.
#[derive(Debug)]
pub enum Received {
    /// A text frame, parsed as JSON (a text frame that is not a `whisper-wire` event panics).
    Event(Value),
    /// A close frame, with its code (`None`: a close frame without a code).
    Closed(Option<u16>, String),
    /// The connection ended without a close frame, or failed.
    Ended(String),
    /// Nothing arrived in time.
    TimedOut,
}

/// One open connection to a room.
pub struct WsClient {
    /// The sending half.
    pub tx: WsSender,
    /// The receiving half.
    pub rx: WsReceiver,
}

/// The sending half of a connection.
pub struct WsSender {
    sink: SplitSink<Socket, Message>,
}

/// The receiving half of a connection.
pub struct WsReceiver {
    stream: SplitStream<Socket>,
}

impl WsClient {
    /// Connects to `url` (`ws://…`) with extra request `headers`.
    pub async fn connect(url: &str, headers: &[(&str, String)]) -> Result<Self, Refused> {
        let stream = TcpStream::connect(socket_address(url)).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self::handshake(url, headers, Box::new(stream)).await
    }

    /// Connects to `url` (`wss://…`) over TLS verified with `tls` (see [`crate::tls`]).
    pub async fn connect_tls(
        url: &str,
        headers: &[(&str, String)],
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, Refused> {
        let stream = TcpStream::connect(socket_address(url)).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let host = url::Url::parse(url).unwrap().host_str().unwrap().to_owned();
        let stream = crate::tls::connect(stream, &host, tls).await.unwrap();
        Self::handshake(url, headers, Box::new(stream)).await
    }

    /// Connects with a small kernel receive buffer, for a client that stops reading: the
    /// server's writes then back up quickly.
    pub async fn connect_with_recv_buffer(
        url: &str,
        headers: &[(&str, String)],
        recv_buffer: u32,
    ) -> Result<Self, Refused> {
        let address: std::net::SocketAddr = socket_address(url).parse().unwrap();
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .unwrap();
        socket.set_recv_buffer_size(recv_buffer).unwrap();
        let stream = socket.connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self::handshake(url, headers, Box::new(stream)).await
    }

    async fn handshake(
        url: &str,
        headers: &[(&str, String)],
        stream: Box<dyn Transport>,
    ) -> Result<Self, Refused> {
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        match tokio_tungstenite::client_async(request, stream).await {
            Ok((socket, _response)) => {
                let (sink, stream) = socket.split();
                Ok(Self {
                    tx: WsSender { sink },
                    rx: WsReceiver { stream },
                })
            }
            Err(tungstenite::Error::Http(response)) => Err(Refused {
                status: response.status().as_u16(),
                body: response
                    .body()
                    .as_deref()
                    .and_then(|body| serde_json::from_slice(body).ok()),
            }),
            Err(other) => panic!("the WebSocket handshake with {url} failed: {other}"),
        }
    }

    /// The two halves, to read and write from different tasks.
    pub fn split(self) -> (WsSender, WsReceiver) {
        (self.tx, self.rx)
    }

    /// See [`WsSender::send_json`].
    pub async fn send_json(&mut self, value: &impl Serialize) {
        self.tx.send_json(value).await;
    }

    /// See [`WsSender::send_text`].
    pub async fn send_text(&mut self, text: &str) {
        self.tx.send_text(text).await;
    }

    /// See [`WsSender::try_send_json`].
    pub async fn try_send_json(&mut self, value: &impl Serialize) -> Result<(), String> {
        self.tx.try_send_json(value).await
    }

    /// See [`WsSender::send_message`].
    pub async fn send_message(&mut self, text: &str) {
        self.tx.send_message(text).await;
    }

    /// See [`WsSender::send_binary`].
    pub async fn send_binary(&mut self, meta: &impl Serialize, bytes: &[u8]) {
        self.tx.send_binary(meta, bytes).await;
    }

    /// See [`WsSender::send_raw_binary`].
    pub async fn send_raw_binary(&mut self, frame: Vec<u8>) {
        self.tx.send_raw_binary(frame).await;
    }

    /// See [`WsSender::try_send_raw_binary`].
    pub async fn try_send_raw_binary(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.tx.try_send_raw_binary(frame).await
    }

    /// See [`WsSender::send_binary_fragmented`].
    pub async fn send_binary_fragmented(
        &mut self,
        meta: &impl Serialize,
        bytes: &[u8],
        chunk: usize,
    ) {
        self.tx.send_binary_fragmented(meta, bytes, chunk).await;
    }

    /// See [`WsSender::close`].
    pub async fn close(&mut self) {
        self.tx.close().await;
    }

    /// See [`WsSender::close_with`].
    pub async fn close_with(&mut self, code: u16) {
        self.tx.close_with(code).await;
    }

    /// See [`WsReceiver::recv`].
    pub async fn recv(&mut self, timeout: Duration) -> Received {
        self.rx.recv(timeout).await
    }

    /// See [`WsReceiver::next_event`].
    pub async fn next_event(&mut self, timeout: Duration) -> Value {
        self.rx.next_event(timeout).await
    }

    /// See [`WsReceiver::try_next_event`].
    pub async fn try_next_event(&mut self, timeout: Duration) -> Option<Value> {
        self.rx.try_next_event(timeout).await
    }

    /// See [`WsReceiver::next_of_type`].
    pub async fn next_of_type(&mut self, kind: &str, timeout: Duration) -> Value {
        self.rx.next_of_type(kind, timeout).await
    }

    /// See [`WsReceiver::messages`].
    pub async fn messages(&mut self, count: usize, timeout: Duration) -> Vec<Value> {
        self.rx.messages(count, timeout).await
    }

    /// See [`WsReceiver::events_for`].
    pub async fn events_for(&mut self, window: Duration) -> Vec<Value> {
        self.rx.events_for(window).await
    }

    /// See [`WsReceiver::active_reaches`].
    pub async fn active_reaches(&mut self, count: u64, timeout: Duration) {
        self.rx.active_reaches(count, timeout).await;
    }

    /// See [`WsReceiver::expect_close`].
    pub async fn expect_close(&mut self, timeout: Duration) -> Option<u16> {
        self.rx.expect_close(timeout).await
    }

    /// See [`WsReceiver::drain_until_close`].
    pub async fn drain_until_close(&mut self, timeout: Duration) -> (Vec<Value>, Option<u16>) {
        self.rx.drain_until_close(timeout).await
    }
}

impl WsSender {
    /// Sends `value` (a `whisper-wire` command, or any JSON) as a text frame.
    pub async fn send_json(&mut self, value: &impl Serialize) {
        self.send_text(&serde_json::to_string(value).unwrap()).await;
    }

    /// Sends `text` as a text frame, as it is.
    pub async fn send_text(&mut self, text: &str) {
        self.sink
            .send(Message::text(text.to_owned()))
            .await
            .unwrap();
    }

    /// Sends `value` as a text frame, or says why it could not (the server may be gone:
    /// tests that kill a server keep sending until the connection fails).
    pub async fn try_send_json(&mut self, value: &impl Serialize) -> Result<(), String> {
        let text = serde_json::to_string(value).unwrap();
        self.sink
            .send(Message::text(text))
            .await
            .map_err(|error| error.to_string())
    }

    /// Sends a plain `message` frame.
    pub async fn send_message(&mut self, text: &str) {
        self.send_json(&ClientCommand::message(text)).await;
    }

    /// Sends `meta` + `<delimiter>` + `bytes` as one binary frame.
    pub async fn send_binary(&mut self, meta: &impl Serialize, bytes: &[u8]) {
        self.send_raw_binary(media_frame(meta, bytes)).await;
    }

    /// Sends `frame` as one binary frame, as it is.
    pub async fn send_raw_binary(&mut self, frame: Vec<u8>) {
        self.sink.send(Message::binary(frame)).await.unwrap();
    }

    /// Sends `frame` as one binary frame, or says why it could not (the server may be gone).
    pub async fn try_send_raw_binary(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.sink
            .send(Message::binary(frame))
            .await
            .map_err(|error| error.to_string())
    }

    /// Sends `meta` + `<delimiter>` + `bytes` as one binary message split into frames of
    /// `chunk` bytes: a binary frame, then continuation frames, the last one final.
    pub async fn send_binary_fragmented(
        &mut self,
        meta: &impl Serialize,
        bytes: &[u8],
        chunk: usize,
    ) {
        let payload = media_frame(meta, bytes);
        let pieces: Vec<&[u8]> = payload.chunks(chunk.max(1)).collect();
        let last = pieces.len() - 1;
        for (index, piece) in pieces.into_iter().enumerate() {
            let opcode = if index == 0 {
                OpCode::Data(Data::Binary)
            } else {
                OpCode::Data(Data::Continue)
            };
            self.sink
                .feed(Message::Frame(Frame::message(
                    piece.to_vec(),
                    opcode,
                    index == last,
                )))
                .await
                .unwrap();
        }
        self.sink.flush().await.unwrap();
    }

    /// Starts a normal closing handshake (errors ignored: the server may be gone).
    pub async fn close(&mut self) {
        let _ = self.sink.close().await;
    }

    /// Starts a closing handshake with `code` and no reason; the connection stays open
    /// to read the server's reply.
    pub async fn close_with(&mut self, code: u16) {
        let frame = tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: "".into(),
        };
        self.sink.send(Message::Close(Some(frame))).await.unwrap();
    }
}

impl WsReceiver {
    /// The next text frame, close or end, skipping pings and pongs, within `timeout`.
    pub async fn recv(&mut self, timeout: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Received::TimedOut,
                Ok(next) => next,
            };
            match next {
                None => return Received::Ended("the stream ended".into()),
                Some(Err(error)) => return Received::Ended(error.to_string()),
                Some(Ok(Message::Text(text))) => {
                    let value = serde_json::from_str(text.as_str()).unwrap_or_else(|e| {
                        panic!("the server sent a text frame that is not JSON ({e}): {text}")
                    });
                    if let Err(e) = ServerEvent::deserialize(&value) {
                        panic!("the server sent a frame that is no event of the API ({e}): {text}");
                    }
                    return Received::Event(value);
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(frame) => {
                            Received::Closed(Some(u16::from(frame.code)), frame.reason.to_string())
                        }
                        None => Received::Closed(None, String::new()),
                    };
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Binary(bytes))) => {
                    panic!("the server sent a binary frame of {} bytes", bytes.len())
                }
                Some(Ok(Message::Frame(_))) => {}
            }
        }
    }

    /// The next event, panicking on timeout or when the connection ends.
    pub async fn next_event(&mut self, timeout: Duration) -> Value {
        match self.recv(timeout).await {
            Received::Event(value) => value,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// The next event, or `None` when nothing arrives within `timeout`; panics when the
    /// connection ends.
    pub async fn try_next_event(&mut self, timeout: Duration) -> Option<Value> {
        match self.recv(timeout).await {
            Received::Event(value) => Some(value),
            Received::TimedOut => None,
            other => panic!("expected an event or nothing, got {other:?}"),
        }
    }

    /// The next event of type `kind`, skipping others, within `timeout` overall.
    pub async fn next_of_type(&mut self, kind: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Received::Event(value) if value["type"] == kind => return value,
                Received::Event(value) => skipped.push(value),
                other => panic!("waiting for {kind}: got {other:?}; skipped {skipped:?}"),
            }
        }
    }

    /// The next `count` `chat.message` events, skipping others, within `timeout` overall.
    pub async fn messages(&mut self, count: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut messages = Vec::with_capacity(count);
        while messages.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Received::Event(value) if value["type"] == "chat.message" => messages.push(value),
                Received::Event(_) => {}
                other => panic!(
                    "waiting for {count} messages, {} arrived, then {other:?}",
                    messages.len()
                ),
            }
        }
        messages
    }

    /// Every event that arrives within `window` (the connection must stay open).
    pub async fn events_for(&mut self, window: Duration) -> Vec<Value> {
        let deadline = Instant::now() + window;
        let mut events = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Received::Event(value) => events.push(value),
                Received::TimedOut => return events,
                other => panic!("the connection ended: {other:?} after {events:?}"),
            }
        }
    }

    /// Reads until a `chat.active` event says `count`.
    pub async fn active_reaches(&mut self, count: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Received::Event(value) => {
                    if let Ok(ServerEvent::Active { content }) = ServerEvent::deserialize(&value) {
                        if content == count {
                            return;
                        }
                        seen.push(content);
                    }
                }
                other => panic!("waiting for chat.active {count}: {other:?}; counts seen {seen:?}"),
            }
        }
    }

    /// Reads (and returns) events until the server closes the connection; the close code,
    /// or `None` when the connection ended without a close frame. Panics on timeout.
    pub async fn drain_until_close(&mut self, timeout: Duration) -> (Vec<Value>, Option<u16>) {
        let deadline = Instant::now() + timeout;
        let mut events = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Received::Event(value) => events.push(value),
                Received::Closed(code, _) => return (events, code),
                Received::Ended(_) => return (events, None),
                Received::TimedOut => panic!(
                    "the connection was still open after {timeout:?} ({} events read)",
                    events.len()
                ),
            }
        }
    }

    /// The close code the server ends the connection with (events before it are skipped).
    pub async fn expect_close(&mut self, timeout: Duration) -> Option<u16> {
        self.drain_until_close(timeout).await.1
    }
}

/// `meta` (a `whisper-wire` `MediaCommand`, or any JSON) + `<delimiter>` + `bytes`.
pub fn media_frame(meta: &impl Serialize, bytes: &[u8]) -> Vec<u8> {
    let meta = serde_json::to_string(meta).unwrap();
    let mut frame = Vec::with_capacity(meta.len() + DELIMITER.len() + bytes.len());
    frame.extend_from_slice(meta.as_bytes());
    frame.extend_from_slice(DELIMITER);
    frame.extend_from_slice(bytes);
    frame
}

/// `host:port` of a `ws://` URL.
fn socket_address(url: &str) -> String {
    let parsed = url::Url::parse(url).unwrap();
    let host = parsed.host_str().unwrap();
    let port = parsed.port_or_known_default().unwrap();
    format!("{host}:{port}")
}

impl TestApp {
    /// `ws://…/ws/chat/<room>/<query>`.
    pub fn ws_url(&self, room: &str, query: &str) -> String {
        let rest = self.address.strip_prefix("http").unwrap();
        format!("ws{rest}/ws/chat/{room}/{query}")
    }

    /// Connects to `room` with a Bearer token and `query` (`""` or `?since=…`).
    pub async fn try_ws(&self, access: &str, room: &str, query: &str) -> Result<WsClient, Refused> {
        WsClient::connect(
            &self.ws_url(room, query),
            &[("authorization", format!("Bearer {access}"))],
        )
        .await
    }

    /// Connects to `room` with a Bearer token, panicking when refused.
    pub async fn ws(&self, access: &str, room: &str) -> WsClient {
        self.ws_query(access, room, "").await
    }

    /// Sockets of `first` and `second` in `room`, once the first saw both present.
    pub async fn two_sockets(&self, first: &str, second: &str, room: &str) -> (WsClient, WsClient) {
        let mut first = self.ws(first, room).await;
        let second = self.ws(second, room).await;
        first.active_reaches(2, PROMPTLY).await;
        (first, second)
    }

    /// Connects to `room` with a Bearer token and `query`, panicking when refused.
    pub async fn ws_query(&self, access: &str, room: &str, query: &str) -> WsClient {
        match self.try_ws(access, room, query).await {
            Ok(client) => client,
            Err(refused) => panic!("connecting to room {room} was refused: {refused:?}"),
        }
    }

    /// A WebSocket handshake request sent over plain HTTP, to read a refusal: its status
    /// and JSON body (panics when the body is not JSON).
    pub async fn ws_refusal(&self, path: &str, headers: &[(&str, String)]) -> (StatusCode, Value) {
        // No cookie jar: the only credentials are the headers given.
        let mut request = crate::accounts::fresh_client()
            .get(format!("{}{path}", self.address))
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("a {status} refusal whose body is not JSON ({e}): {text}"));
        (status, body)
    }

    /// `GET /api/v1/user/me/` as `access`.
    pub async fn me(&self, access: &str) -> Value {
        let response = self.get_as(access, "/api/v1/user/me/").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Every message of `room` as `access` sees it over REST, oldest first.
    pub async fn all_messages(&self, access: &str, room: &str) -> Vec<Value> {
        let mut messages = Vec::new();
        let mut query = "?page_size=100".to_owned();
        loop {
            let response = self.history(access, room, &query).await;
            assert_eq!(response.status(), StatusCode::OK);
            // The messages as sent, for tests that compare them with events field by field.
            let page: Value = response.json().await.unwrap();
            messages.extend(page["results"].as_array().unwrap().iter().cloned());
            let page = HistoryBody::deserialize(&page).unwrap();
            match page.previous_messages {
                None => break,
                Some(next) => {
                    let next = url::Url::parse(&next).unwrap();
                    query = format!("?{}", next.query().unwrap());
                }
            }
        }
        messages.reverse();
        messages
    }

    /// The path of an absolute `media_url`, fetched as `access`.
    pub async fn media(&self, access: &str, media_url: &str) -> reqwest::Response {
        let path = url::Url::parse(media_url).unwrap().path().to_owned();
        self.get_as(access, &path).await
    }
}

/// A real PNG of `width` × `height` RGBA pixels of noise (so it does not compress).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = vec![0u8; (width * height * 4) as usize];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut pixels);
    let mut out = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut out, width, height);
        encoder.set_color(::png::ColorType::Rgba);
        encoder.set_depth(::png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&pixels).unwrap();
    }
    out
}

/// A real PNG padded after its end with zero bytes to exactly `size` bytes.
pub fn png_of_size(size: usize) -> Vec<u8> {
    let mut bytes = png(4, 4);
    assert!(bytes.len() <= size, "a PNG needs {} bytes", bytes.len());
    bytes.resize(size, 0);
    bytes
}

/// A real WAV file: `samples` 16-bit mono samples at 8 kHz of noise.
pub fn wav(samples: usize) -> Vec<u8> {
    let data_len = (samples * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let mut data = vec![0u8; samples * 2];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut data);
    out.extend_from_slice(&data);
    out
}

/// An app reading `[websocket]` settings `websocket` (e.g. `"queue_capacity = 8"`) from a
/// config directory, with a mail sink; request and send rate limits off unless
/// `rate_limits`. Keep the directory until the test ends.
pub async fn ws_app(
    database_url: &str,
    websocket: &str,
    rate_limits: bool,
) -> (TestApp, SmtpSink, crate::TempDir) {
    let config = config_with(&format!("[websocket]\n{websocket}"));
    let sink = SmtpSink::start().await.unwrap();
    let smtp = sink.url();
    let dir = config.0.display().to_string();
    let app = TestApp::spawn_with(database_url, |env| {
        env.insert("WHISPER_MAIL".into(), smtp);
        env.insert("WHISPER_CONFIG_DIR".into(), dir);
        // The config directory's test.toml replaces the built-in one, which turns the
        // metrics listener off: without this, parallel tests all want port 9100.
        env.insert("WHISPER_METRICS_ADDR".into(), "off".into());
        if !rate_limits {
            env.insert("WHISPER_RATE_LIMITS".into(), "off".into());
        }
    })
    .await;
    (app, sink, config)
}

/// A config directory whose `test.toml` holds `extra` after the test defaults.
pub fn config_with(extra: &str) -> crate::TempDir {
    let dir = crate::TempDir::new("config");
    let text = format!(
        "[database]\npool_size = 4\n\n[log]\nformat = \"pretty\"\nfilter = \"warn\"\n\n{extra}\n"
    );
    std::fs::write(dir.0.join("test.toml"), text).unwrap();
    dir
}
