//! A real nginx (Debian's, `/usr/sbin/nginx`) running `deploy/nginx.conf` as written, with
//! only its ports and certificate paths replaced: the file and the tests cannot drift.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use whisper_e2e::TempDir;

use super::free_port;
use super::ready_line::ReadyLine;

const WHISPER: &str = env!("CARGO_BIN_EXE_whisper");
/// Where `scripts/ensure-services` (and `.ci/run`) install it.
const NGINX: &str = "/usr/sbin/nginx";

/// A self-signed certificate for localhost from `whisper gen-cert`.
pub struct Certificate {
    /// The PEM certificate, which clients trust as their only root.
    pub pem: Vec<u8>,
    cert: PathBuf,
    key: PathBuf,
}

impl Certificate {
    /// Runs `whisper gen-cert --out <dir>/tls` (the real binary).
    pub fn generate(dir: &Path) -> Self {
        let out = dir.join("tls");
        let output = Command::new(WHISPER)
            .args(["gen-cert", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "whisper gen-cert failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let cert = out.join("cert.pem");
        Self {
            pem: std::fs::read(&cert).unwrap(),
            cert,
            key: out.join("key.pem"),
        }
    }
}

/// An nginx child process in a directory of its own (config, logs, pid, temp files);
/// stopped on drop.
pub struct Nginx {
    /// Plain HTTP (production: 80).
    pub http_port: u16,
    /// HTTPS (production: 443).
    pub https_port: u16,
    child: Child,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx in front of the instances on `upstreams` (production: 8000, 8001),
    /// serving `certificate` on `https_port` (chosen before the instances start, as their
    /// public URL names it), and waits until it answers over HTTPS.
    pub async fn start(upstreams: [u16; 2], https_port: u16, certificate: &Certificate) -> Self {
        assert!(
            Path::new(NGINX).is_file(),
            "{NGINX} is missing: run scripts/ensure-services (it installs Debian's nginx)"
        );
        let dir = TempDir::new("nginx");
        let http_port = free_port();
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx.conf");
        let production = std::fs::read_to_string(deploy).unwrap();
        let cert = certificate.cert.display().to_string();
        let key = certificate.key.display().to_string();
        let replacements = [
            (
                "server 127.0.0.1:8000;",
                format!("server 127.0.0.1:{};", upstreams[0]),
            ),
            (
                "server 127.0.0.1:8001;",
                format!("server 127.0.0.1:{};", upstreams[1]),
            ),
            ("listen 80;", format!("listen 127.0.0.1:{http_port};")),
            ("listen [::]:80;", "# IPv4 only in the test".to_owned()),
            (
                "listen 443 ssl http2;",
                format!("listen 127.0.0.1:{https_port} ssl http2;"),
            ),
            ("listen [::]:443 ssl http2;", "# IPv4 only".to_owned()),
            // Production redirects to the default port; the test's is another.
            (
                "https://$host$request_uri",
                format!("https://$host:{https_port}$request_uri"),
            ),
            ("/etc/letsencrypt/live/chat.example.org/fullchain.pem", cert),
            ("/etc/letsencrypt/live/chat.example.org/privkey.pem", key),
        ];
        let mut rendered = production;
        for (production_value, test_value) in replacements {
            assert_eq!(
                rendered.matches(production_value).count(),
                1,
                "deploy/nginx.conf no longer holds {production_value:?} once: update the test"
            );
            rendered = rendered.replace(production_value, &test_value);
        }
        std::fs::write(dir.0.join("whisper.conf"), rendered).unwrap();
        let main = main_config(&dir.0);
        std::fs::write(dir.0.join("nginx.conf"), main).unwrap();
        let mut child = Command::new(NGINX)
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(dir.0.join("nginx.conf"))
            .args(["-e", "stderr", "-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = child.stderr.take().unwrap();
        let log = std::fs::File::create(dir.0.join("stderr.log")).unwrap();
        let nginx = Self {
            http_port,
            https_port,
            child,
            dir,
        };
        // Logged once the listening sockets are open: connections wait in their backlog.
        ReadyLine::watch(output, log, "start worker processes").wait("nginx", || nginx.log());
        nginx
    }

    /// `https://localhost:<https port>`.
    pub fn https_url(&self) -> String {
        format!("https://localhost:{}", self.https_port)
    }

    /// `wss://localhost:<https port>`.
    pub fn wss_url(&self) -> String {
        format!("wss://localhost:{}", self.https_port)
    }

    /// `http://localhost:<http port>`.
    pub fn http_url(&self) -> String {
        format!("http://localhost:{}", self.http_port)
    }

    /// What nginx wrote to its error log (its stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- nginx\n{}", self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that trusts `cert_pem` alone (verifying it, for `localhost` pinned to
/// 127.0.0.1:`port`), keeps cookies, follows no redirect, and connects from `from`.
pub fn https_client(cert_pem: &[u8], port: u16, from: Option<[u8; 4]>) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .local_address(from.map(std::net::IpAddr::from))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The main configuration around the rendered `whisper.conf`: one worker (so round-robin
/// alternates strictly), everything nginx writes inside `dir`.
fn main_config(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "worker_processes 1;
pid {dir}/nginx.pid;
error_log stderr info;
events {{
    worker_connections 256;
}}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/whisper.conf;
}}
"
    )
}
