//! A tiny HTTP server of fixed pages on a free loopback port: another origin for the
//! cross-origin test, and fixture pages for testing the harness itself.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One file the site serves: its path, `Content-Type` and body.
pub struct Asset {
    /// E.g. `/` or `/probe.js`.
    pub path: &'static str,
    /// E.g. `text/javascript`.
    pub content_type: &'static str,
    /// What it answers.
    pub body: String,
}

/// Serves its assets (404 for anything else); stops when dropped.
pub struct StaticSite {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    server: JoinHandle<()>,
}

impl StaticSite {
    /// Starts serving `assets`.
    pub async fn serve(assets: Vec<Asset>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let assets = Arc::new(assets);
        let server = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let assets = assets.clone();
                tokio::spawn(async move {
                    let mut request = vec![0u8; 8192];
                    let Ok(read) = stream.read(&mut request).await else {
                        return;
                    };
                    let request = String::from_utf8_lossy(&request[..read]);
                    let path = request.split(' ').nth(1).unwrap_or("/");
                    let path = path.split('?').next().unwrap_or(path);
                    let response = match assets.iter().find(|asset| asset.path == path) {
                        Some(asset) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
                             Connection: close\r\n\r\n{}",
                            asset.content_type,
                            asset.body.len(),
                            asset.body
                        ),
                        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\
                                 Connection: close\r\n\r\n"
                            .to_owned(),
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { base, server }
    }

    /// A page on this other origin whose script opens a WebSocket to `target` (a `ws://`
    /// URL) and writes into the element labelled "Outcome" what happened: "open", or
    /// "refused". The browser sends the session cookie along (cookies ignore ports), so
    /// only the server's `Origin` check stands between this page and the person's chats.
    pub async fn socket_probe(target: &str) -> Self {
        let script = format!(
            "const outcome = document.getElementById('outcome');\n\
             const socket = new WebSocket({target:?});\n\
             socket.onopen = () => {{ outcome.textContent = 'open'; }};\n\
             socket.onerror = () => {{ outcome.textContent = 'refused'; }};\n"
        );
        let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Elsewhere</title>\
            <script type=\"module\" src=\"/probe.js\"></script></head><body><p>Outcome: \
            <output id=\"outcome\" aria-label=\"Outcome\">pending</output></p></body></html>";
        Self::serve(vec![
            Asset {
                path: "/",
                content_type: "text/html; charset=utf-8",
                body: page.to_owned(),
            },
            Asset {
                path: "/probe.js",
                content_type: "text/javascript",
                body: script,
            },
        ])
        .await
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.server.abort();
    }
}
