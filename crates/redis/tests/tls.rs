//! `rediss://` reaches Redis over TLS (rustls, ring), verifying the server against the
//! trusted roots. The roots are read from the environment (`SSL_CERT_FILE`), which a
//! test cannot set for itself safely, so the test runs itself again as a child process
//! with that variable pointing at a throwaway CA.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Stdio;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use support::{hearing, link_up, next, unique_prefix};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use whisper_domain::ports::{EventBus, EventSource};
use whisper_domain::{RoomEvent, RoomId};
use whisper_redis::RedisEventBus;

const CHILD_URL: &str = "WHISPER_TEST_REDISS_URL";
const TEST_NAME: &str = "rediss_urls_reach_redis_over_verified_tls";

#[tokio::test]
async fn rediss_urls_reach_redis_over_verified_tls() {
    match std::env::var(CHILD_URL) {
        Ok(url) => events_cross_over(&url).await,
        Err(_) => run_as_child_against_a_tls_redis().await,
    }
}

/// Two links over TLS: an event crosses from one to the other.
async fn events_cross_over(url: &str) {
    let prefix = unique_prefix();
    let (here, there) = (link_up(url, &prefix).await, link_up(url, &prefix).await);
    let there_bus = RedisEventBus::new(there.clone());
    let mut heard = hearing(&there_bus);
    let room = RoomId::generate();
    there_bus.follow(&room);
    there.subscriptions_applied().await;
    let event = RoomEvent::PresenceChanged { room };
    RedisEventBus::new(here).publish(event.clone());
    assert_eq!(next(&mut heard).await, event);
}

async fn run_as_child_against_a_tls_redis() {
    let dir = std::env::temp_dir().join(format!("whisper-rediss-{}", nanoid::nanoid!(8)));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let (ca_file, cert_file, key_file) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_file, AsRef::<rcgen::Certificate>::as_ref(&ca).pem()).unwrap();
    std::fs::write(&cert_file, server_cert.pem()).unwrap();
    std::fs::write(&key_file, server_key.serialize_pem()).unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let mut server = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .arg("--tls-cert-file")
        .arg(&cert_file)
        .arg("--tls-key-file")
        .arg(&key_file)
        .arg("--tls-ca-cert-file")
        .arg(&ca_file)
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("this test needs `redis-server` on PATH: {error}"));
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) if line.contains("Ready to accept connections") => break,
            Ok(Some(_)) => {}
            _ => panic!("redis-server with TLS did not start (built without TLS?)"),
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture"])
        .env(CHILD_URL, format!("rediss://127.0.0.1:{port}"))
        .env("SSL_CERT_FILE", &ca_file)
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        child.status.success() && String::from_utf8_lossy(&child.stdout).contains("1 passed"),
        "the TLS run failed:\n{}\n{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
}
