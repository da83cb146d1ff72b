//! Preparing the server for a scenario through its API: users and rooms.

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt};
use whisper_wire::{MembersRequest, NewRoomRequest, RoomBody, ServerEvent};

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
    // A request body holds at most 64 KiB: about 2,500 ids.
    let mut chunks = others.chunks(MEMBERS_PER_REQUEST);
    let request = NewRoomRequest {
        room_name: name.clone(),
        user_ids: ids(chunks.next().unwrap_or_default()),
    };
    let client = reqwest::Client::new();
    let endpoint = format!("{url}{}", routes::ROOM_LIST);
    let room = post(&client, &endpoint, &creator.access, &request, &name).await?;
    let members = format!("{url}{}", routes::path(routes::ROOM_MEMBERS, &[&room.id]));
    for chunk in chunks {
        let request = MembersRequest {
            user_ids: ids(chunk),
        };
        post(&client, &members, &creator.access, &request, &name).await?;
    }
    Ok(room.id)
}

/// How many users one room request names.
const MEMBERS_PER_REQUEST: usize = 2_000;

fn ids(users: &[BenchUser]) -> Vec<String> {
    users.iter().map(|user| user.id.clone()).collect()
}

/// POSTs `body` to `endpoint` as `access`; the room it answers with.
async fn post(
    client: &reqwest::Client,
    endpoint: &str,
    access: &str,
    body: &impl serde::Serialize,
    name: &str,
) -> anyhow::Result<RoomBody> {
    let response = client
        .post(endpoint)
        .bearer_auth(access)
        .json(body)
        .send()
        .await
        .with_context(|| format!("creating or filling room {name}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("reading the answer about room {name}"))?;
    match serde_json::from_str::<RoomBody>(&text) {
        Ok(room) if status.is_success() => Ok(room),
        _ => bail!("creating or filling room {name}: {status} {text}"),
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
