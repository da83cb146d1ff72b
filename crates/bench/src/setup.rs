//! Preparing the server for a scenario through its API: users and rooms.

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt};
use whisper_wire::{NewRoomRequest, RoomBody, ServerEvent};

use crate::accounts::{BenchUser, SignUp};
use crate::socket;
use whisper_http::routes;

/// How many sign-ups or room creations are in flight at once.
const IN_FLIGHT: usize = 8;

/// Signs up `count` users.
pub async fn sign_up(signup: &SignUp<'_>, count: usize) -> anyhow::Result<Vec<BenchUser>> {
    futures_util::stream::iter(0..count)
        .map(|n| signup.user(n))
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await
        .context("signing up users")
}

/// `count` rooms named `<prefix>-<n>`, each created by the first user with every user in it.
pub async fn create_rooms(
    url: &str,
    users: &[BenchUser],
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    futures_util::stream::iter(0..count)
        .map(|n| create_room(url, users, format!("{prefix}-{n}")))
        .buffered(IN_FLIGHT)
        .try_collect()
        .await
}

async fn create_room(url: &str, users: &[BenchUser], name: String) -> anyhow::Result<String> {
    let Some((creator, others)) = users.split_first() else {
        bail!("no users");
    };
    let request = NewRoomRequest {
        room_name: name.clone(),
        user_ids: others.iter().map(|u| u.id.clone()).collect(),
    };
    let response = reqwest::Client::new()
        .post(format!("{url}{}", routes::ROOM_LIST))
        .bearer_auth(&creator.access)
        .json(&request)
        .send()
        .await
        .with_context(|| format!("creating room {name}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("reading the answer to creating room {name}"))?;
    match serde_json::from_str::<RoomBody>(&text) {
        Ok(room) if status.is_success() => Ok(room.id),
        _ => bail!("creating room {name}: {status} {text}"),
    }
}

/// Sends `count` messages to the room and waits until they are back.
pub async fn fill_room(url: &str, room: &str, access: &str, count: usize) -> anyhow::Result<()> {
    let (mut sender, mut receiver) = socket::connect(url, room, access, None).await?;
    for n in 0..count {
        socket::send_text(&mut sender, &format!("history filler {n}")).await?;
    }
    let mut back = 0;
    while back < count {
        match socket::next_event(&mut receiver).await? {
            Some(ServerEvent::Message(_)) => back += 1,
            Some(_) => {}
            None => bail!("the socket closed while filling the room"),
        }
    }
    Ok(())
}
