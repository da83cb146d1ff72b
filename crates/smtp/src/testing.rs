//! Test support: [`SmtpSink`], a real SMTP server on loopback that keeps what it receives,
//! and helpers that read the parts of a received message (decoding quoted-printable and
//! base64 properly, so tests do not depend on the encoding lettre picks).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mail_parser::{MessageParser, PartType};
use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder};
use parking_lot::{Mutex, MutexGuard};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// A message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub to: Vec<String>,
    /// The message as sent after `DATA`: headers and MIME body, CRLF line ends.
    pub data: Vec<u8>,
}

impl ReceivedMessage {
    /// The decoded `text/plain` part.
    pub fn text_part(&self) -> Option<String> {
        text_part(&self.data)
    }

    /// The decoded `text/html` part.
    pub fn html_part(&self) -> Option<String> {
        html_part(&self.data)
    }

    /// The decoded `Subject` header.
    pub fn subject(&self) -> Option<String> {
        subject(&self.data)
    }

    /// The first `http(s)://` URL of the text part.
    pub fn first_link(&self) -> Option<String> {
        first_link(&self.data)
    }
}

/// How the sink answers recipients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SinkReply {
    /// Accept every message.
    #[default]
    Accept,
    /// Answer every recipient with `451` (try again later).
    Defer,
    /// Answer every recipient with `550` (mailbox unavailable).
    Refuse,
}

struct Shared {
    messages: Mutex<Vec<ReceivedMessage>>,
    arrivals: watch::Sender<usize>,
    reply: Mutex<SinkReply>,
    /// The user and password a client must log in with (AUTH PLAIN or LOGIN), if any.
    login: Option<(String, String)>,
}

impl Shared {
    fn messages(&self) -> MutexGuard<'_, Vec<ReceivedMessage>> {
        self.messages.lock()
    }

    fn reply(&self) -> SinkReply {
        *self.reply.lock()
    }
}

/// A plain (no TLS) SMTP server on 127.0.0.1 that collects messages in memory.
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub async fn start() -> io::Result<Self> {
        Self::start_on(0).await
    }

    /// Starts a sink on `port` (0 for a free one), e.g. to bring a stopped sink back.
    pub async fn start_on(port: u16) -> io::Result<Self> {
        Self::launch(port, None).await
    }

    /// Starts a sink on a free port that accepts mail only after a login (AUTH PLAIN or
    /// LOGIN, offered without TLS) as `user` with `password`; other logins get `535`.
    pub async fn start_requiring_login(user: &str, password: &str) -> io::Result<Self> {
        Self::launch(0, Some((user.to_owned(), password.to_owned()))).await
    }

    async fn launch(port: u16, login: Option<(String, String)>) -> io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))?;
        let listener = socket.listen(64)?;
        let port = listener.local_addr()?.port();
        let (arrivals, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            arrivals,
            reply: Mutex::new(SinkReply::Accept),
            login,
        });
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(Self {
            port,
            shared,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `WHISPER_MAIL` value pointing at this sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Sets how recipients are answered from now on.
    pub fn set_reply(&self, reply: SinkReply) {
        *self.shared.reply.lock() = reply;
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.shared.messages().clone()
    }

    /// The first message (received already or within `timeout`) matching `predicate`.
    pub async fn wait_for_message(
        &self,
        predicate: impl Fn(&ReceivedMessage) -> bool,
        timeout: Duration,
    ) -> Option<ReceivedMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut arrivals = self.shared.arrivals.subscribe();
        loop {
            if let Some(found) = self.shared.messages().iter().find(|m| predicate(m)) {
                return Some(found.clone());
            }
            match tokio::time::timeout_at(deadline, arrivals.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// Closes the listener and every open connection, and waits until they are closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may have ended already; then there is nothing to stop.
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("port", &self.port)
            .field("reply", &self.shared.reply())
            .finish_non_exhaustive()
    }
}

// Dropping the sink drops `stop`, which also ends the server task (without waiting for it).

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(converse(stream, peer.ip(), Arc::clone(&shared)));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn converse(stream: TcpStream, peer: IpAddr, shared: Arc<Shared>) {
    // An I/O error only ends this conversation; the client sees a closed connection.
    let _ = try_converse(stream, peer, shared).await;
}

async fn try_converse(stream: TcpStream, peer: IpAddr, shared: Arc<Shared>) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut builder = SessionBuilder::new("whisper-smtp-sink");
    if shared.login.is_some() {
        builder
            .enable_auth(AuthMechanism::Plain)
            .enable_auth(AuthMechanism::Login)
            .insecure_enable_plaintext_auth();
    }
    let collector = Collector {
        shared,
        from: String::new(),
        to: Vec::new(),
        data: Vec::new(),
    };
    let mut session = builder.build(peer, collector);
    writer.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply => writer.write_all(&response.buffer()?).await?,
            Action::Close | Action::UpgradeTls => {
                writer.write_all(&response.buffer()?).await?;
                writer.shutdown().await?;
                return Ok(());
            }
        }
    }
}

/// One connection's mailin handler: records each completed message.
struct Collector {
    shared: Arc<Shared>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Collector {
    fn check_login(&self, user: &str, password: &str) -> Response {
        match &self.shared.login {
            Some((expected_user, expected_password))
                if expected_user == user && expected_password == password =>
            {
                mailin::response::AUTH_OK
            }
            _ => mailin::response::INVALID_CREDENTIALS,
        }
    }
}

impl Handler for Collector {
    fn auth_plain(
        &mut self,
        _authorization_id: &str,
        authentication_id: &str,
        password: &str,
    ) -> Response {
        self.check_login(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.check_login(username, password)
    }

    fn rcpt(&mut self, _to: &str) -> Response {
        match self.shared.reply() {
            SinkReply::Accept => mailin::response::OK,
            SinkReply::Defer => Response::custom(451, "4.3.0 Try again later".to_owned()),
            SinkReply::Refuse => Response::custom(550, "5.1.1 Mailbox unavailable".to_owned()),
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = ReceivedMessage {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        };
        self.shared.messages().push(message);
        self.shared.arrivals.send_modify(|count| *count += 1);
        mailin::response::OK
    }
}

/// The decoded `text/plain` part of a raw message (an `.eml` file or [`ReceivedMessage::data`]).
pub fn text_part(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    message.text_bodies().find_map(|part| match &part.body {
        PartType::Text(text) => Some(text.to_string()),
        _ => None,
    })
}

/// The decoded `text/html` part of a raw message.
pub fn html_part(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    message.html_bodies().find_map(|part| match &part.body {
        PartType::Html(html) => Some(html.to_string()),
        _ => None,
    })
}

/// The decoded `Subject` header of a raw message.
pub fn subject(raw: &[u8]) -> Option<String> {
    MessageParser::default()
        .parse(raw)?
        .subject()
        .map(str::to_owned)
}

/// The address of the `From` header of a raw message.
pub fn from_address(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    message.from()?.first()?.address().map(str::to_owned)
}

/// The address of the first `To` header entry of a raw message.
pub fn to_address(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    message.to()?.first()?.address().map(str::to_owned)
}

/// The first `http(s)://` URL in the text part of a raw message.
pub fn first_link(raw: &[u8]) -> Option<String> {
    find_link(&text_part(raw)?)
}

/// The first `http(s)://` URL in `text`, without trailing punctuation.
pub fn find_link(text: &str) -> Option<String> {
    let start = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| text.find(scheme))
        .min()?;
    let rest = text.get(start..)?;
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
        .unwrap_or(rest.len());
    let link = rest
        .get(..end)?
        .trim_end_matches(['.', ',', ';', ':', ')', ']', '!', '?']);
    Some(link.to_owned())
}
