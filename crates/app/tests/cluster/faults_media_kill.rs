//! An instance SIGKILLed in the middle of a burst of media uploads: every acknowledged
//! media message is stored and serves its whole file, and nothing half-written is left in
//! the media directory once the server has started again.

use std::path::Path;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::watch;
use whisper_e2e::ws::{Received, WsClient, media_frame, png_of_size};

use crate::harness::{Cluster, DEADLINE, Member};

/// Big enough that a kill often lands while a file is being written.
const MEDIA_BYTES: usize = 2 * 1024 * 1024;
/// The incoming directory of the media store (whisper-local's `incoming::INCOMING`).
const INCOMING: &str = ".incoming";

/// A media frame of `MEDIA_BYTES` carrying `client_id`.
fn picture(client_id: &str) -> Vec<u8> {
    let meta = json!({"message_type": "media", "media_format": "image", "client_id": client_id});
    media_frame(&meta, &png_of_size(MEDIA_BYTES))
}

/// Sends pictures one after another, each after the echo of the one before, until the
/// connection fails; the echoes (acknowledged messages), counted in `echoes`.
async fn upload_until_gone(
    mut socket: WsClient,
    who: String,
    echoes: Arc<watch::Sender<usize>>,
) -> Vec<Value> {
    let mut acknowledged = Vec::new();
    for n in 0.. {
        let client_id = format!("{who}-{n}");
        if socket
            .try_send_raw_binary(picture(&client_id))
            .await
            .is_err()
        {
            return acknowledged;
        }
        loop {
            match socket.recv(DEADLINE).await {
                Received::Event(event) if event["client_id"] == client_id.as_str() => {
                    acknowledged.push(event);
                    echoes.send_modify(|count| *count += 1);
                    break;
                }
                Received::Event(event) if event["type"] == "chat.error" => {
                    panic!("{client_id} refused before the kill: {event}")
                }
                Received::Event(_) => {}
                Received::Closed(..) | Received::Ended(_) => return acknowledged,
                Received::TimedOut => panic!("{client_id} was never answered"),
            }
        }
    }
    acknowledged
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The half-written files under the incoming directory (lock files aside).
fn incoming_files(media: &Path) -> Vec<std::path::PathBuf> {
    let incoming = media.join(INCOMING);
    let in_claims = std::fs::read_dir(&incoming).into_iter().flatten().flatten();
    in_claims
        .filter(|entry| entry.path().is_dir())
        .flat_map(|entry| files_under(&entry.path()))
        .collect()
}

/// `member` fetches `message`'s media: its length.
async fn served_length(cluster: &Cluster, member: &Member, message: &Value) -> usize {
    let url = url::Url::parse(message["media_url"].as_str().unwrap()).unwrap();
    let response = cluster.call(0, member, Method::GET, url.path(), None).await;
    assert_eq!(response.status(), 200, "{message}");
    response.bytes().await.unwrap().len()
}

#[tokio::test]
async fn an_instance_killed_mid_media_burst_keeps_every_acknowledged_file_and_no_partial() {
    let mut cluster = Cluster::start(1, None).await;
    let (people, room, sockets) = cluster.connected_room(&["ada", "bob"]).await;
    let echoes = Arc::new(watch::channel(0usize).0);
    let mut uploads = Vec::new();
    for (person, socket) in people.iter().zip(sockets) {
        let who = person.username.clone();
        uploads.push(tokio::spawn(upload_until_gone(socket, who, echoes.clone())));
    }
    echoes.subscribe().wait_for(|n| *n >= 6).await.unwrap();
    cluster.kill(0);
    let mut acknowledged = Vec::new();
    for upload in uploads {
        acknowledged.extend(upload.await.unwrap());
    }
    let media = cluster.media_dir();
    // The kill leaves a half-written file about every other run; one more as it would be
    // left, so the sweep always has something to remove.
    let dead_claim = std::fs::read_dir(media.join(INCOMING))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.is_dir())
        .expect("the killed instance's incoming directory");
    std::fs::write(dead_claim.join("half-written"), vec![0u8; 1000]).unwrap();

    cluster.restart(0).await;
    assert_eq!(incoming_files(&media), Vec::<std::path::PathBuf>::new());
    assert!(
        !dead_claim.exists(),
        "the dead instance's directory was swept"
    );
    let partials: Vec<_> = files_under(&media)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "partial"))
        .collect();
    assert!(partials.is_empty(), "{partials:?}");

    let stored = cluster.history(0, &people[0], &room).await;
    for echo in &acknowledged {
        let found = stored.iter().find(|message| message["id"] == echo["id"]);
        let message = found.unwrap_or_else(|| panic!("acknowledged {} was lost", echo["id"]));
        assert_eq!(message["media_size"], MEDIA_BYTES, "{message}");
        assert_eq!(
            served_length(&cluster, &people[1], message).await,
            MEDIA_BYTES
        );
    }
    // Every stored media message serves its whole file, acknowledged or not.
    for message in &stored {
        assert_eq!(
            served_length(&cluster, &people[1], message).await,
            MEDIA_BYTES
        );
    }
}
