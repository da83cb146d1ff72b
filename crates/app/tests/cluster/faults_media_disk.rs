//! The media disk full, then read-only: a media send is answered with `chat.error`
//! `storage_unavailable`, no message row is stored and no half-written file is kept, and
//! text messages keep working. whisper runs in a user + mount namespace of its own with a
//! tiny tmpfs as its media directory (the network is shared, so PostgreSQL is reachable).

use std::process::Command;

use serde_json::{Value, json};
use whisper_e2e::ws::{WsClient, media_frame, png_of_size};

use crate::harness::{Cluster, Launch, PROMPTLY, message, wait_for};

/// The media directory's whole size.
const DISK: &str = "256k";

/// Mounts a `DISK`-sized tmpfs over `$WHISPER_MEDIA_DIR`, seen by whisper alone, then
/// becomes whisper (`exec`: the instance's pid stays whisper's).
fn tiny_media_disk() -> Vec<String> {
    let script = format!(
        "mkdir -p \"$WHISPER_MEDIA_DIR\" && \
         mount -t tmpfs -o size={DISK} tmpfs \"$WHISPER_MEDIA_DIR\" && exec \"$@\""
    );
    [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        &script,
        "sh",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Runs `script` inside instance 0's namespaces (where its tmpfs is mounted); its stdout.
fn inside(cluster: &Cluster, script: &str) -> String {
    let target = cluster.pid(0).to_string();
    let media = cluster.media_dir();
    let output = Command::new("nsenter")
        .args(["-t", &target, "-U", "-m", "sh", "-c", script])
        .env("MEDIA", &media)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Sends a picture of `bytes` bytes as `client_id`; the answer: its echo or a `chat.error`.
async fn send_picture(socket: &mut WsClient, client_id: &str, bytes: usize) -> Value {
    let meta = json!({"message_type": "media", "media_format": "image", "client_id": client_id});
    socket
        .send_raw_binary(media_frame(&meta, &png_of_size(bytes)))
        .await;
    wait_for(socket, client_id, PROMPTLY, |event| {
        event["type"] == "chat.error" || event["client_id"] == client_id
    })
    .await
}

/// Sends a text message and waits for its echo.
async fn text_works(socket: &mut WsClient, text: &str) {
    socket.send_json(&message(text, text)).await;
    let echo = wait_for(socket, text, PROMPTLY, |event| {
        event["type"] == "chat.error" || event["client_id"] == text
    })
    .await;
    assert_eq!(echo["type"], "chat.message", "{text}: {echo}");
}

fn assert_refused_as_storage(answer: &Value) {
    assert_eq!(answer["type"], "chat.error", "{answer}");
    assert_eq!(answer["code"], "storage_unavailable", "{answer}");
    assert!(
        answer["content"].as_str().is_some_and(|c| !c.is_empty()),
        "{answer}"
    );
}

/// Files under the media directory other than lock files: `path size` lines.
fn media_files(cluster: &Cluster) -> Vec<String> {
    let listing = inside(
        cluster,
        "find \"$MEDIA\" -type f ! -name '*.lock' -printf '%P %s\\n' | sort",
    );
    listing.lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn a_full_or_read_only_media_disk_refuses_media_clearly_and_stores_no_row() {
    let launch = Launch {
        wrapper: tiny_media_disk(),
        ..Launch::default()
    };
    let cluster = Cluster::launch(1, None, &[], launch).await;
    let (people, room, mut sockets) = cluster.connected_room(&["ada", "bob"]).await;
    let ada = &mut sockets[0];
    let fits = send_picture(ada, "fits", 40 * 1024).await;
    assert_eq!(fits["type"], "chat.message", "{fits}");
    let stored_before = media_files(&cluster);
    assert_eq!(stored_before.len(), 1, "{stored_before:?}");

    // Full: more than the disk has left.
    let too_big = send_picture(ada, "too-big", 300 * 1024).await;
    assert_refused_as_storage(&too_big);
    assert_eq!(
        media_files(&cluster),
        stored_before,
        "a half-written file was kept"
    );
    text_works(ada, "text while full").await;

    // Read-only: even a small picture cannot be written.
    inside(&cluster, "mount -o remount,ro \"$MEDIA\"");
    let small = send_picture(ada, "read-only", 1024).await;
    assert_refused_as_storage(&small);
    text_works(ada, "text while read-only").await;

    // Only what was answered as stored is in history; the stored picture still serves.
    let history = cluster.history(0, &people[1], &room).await;
    let texts: Vec<&Value> = history.iter().map(|m| &m["text_content"]).collect();
    assert_eq!(history.len(), 3, "{texts:?}");
    assert_eq!(history[0]["id"], fits["id"]);
    assert_eq!(history[1]["text_content"], "text while full");
    assert_eq!(history[2]["text_content"], "text while read-only");
    let path = url::Url::parse(fits["media_url"].as_str().unwrap()).unwrap();
    let served = cluster
        .call(0, &people[1], reqwest::Method::GET, path.path(), None)
        .await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().len(), 40 * 1024);
}
