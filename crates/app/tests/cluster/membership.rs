//! Presence, removal and logout across instances.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use whisper_http::routes;

use crate::harness::{Cluster, DEADLINE, Member, PROMPTLY, SHARED_REDIS_URL, active_is, wait_for};

/// Whether `member` appears online in `user-list/` as `viewer` sees it on instance `index`.
async fn is_online(cluster: &Cluster, index: usize, viewer: &Member, member: &Member) -> bool {
    let path = format!("{}?search={}", routes::USER_LIST, member.username);
    let response = cluster.call(index, viewer, Method::GET, &path, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let users: Vec<Value> = response.json().await.unwrap();
    let entry = users.iter().find(|user| user["id"] == member.id.as_str());
    entry.unwrap()["is_online"] == true
}

#[tokio::test]
async fn chat_active_counts_distinct_members_on_every_instance() {
    let cluster = Cluster::start(3, Some(SHARED_REDIS_URL)).await;
    let people = cluster.sign_up_all(&["ada", "bob", "cyd"]).await;
    let (ada, bob, cyd) = (&people[0], &people[1], &people[2]);
    let room = cluster.create_room(0, ada, "General", &[bob, cyd]).await;

    let mut ada_on_a = cluster.ws(0, ada, &room, "").await;
    active_is(&mut ada_on_a, 1).await;
    let mut bob_on_b = cluster.ws(1, bob, &room, "").await;
    active_is(&mut ada_on_a, 2).await;
    let mut cyd_on_c = cluster.ws(2, cyd, &room, "").await;
    active_is(&mut ada_on_a, 3).await;
    active_is(&mut bob_on_b, 3).await;
    active_is(&mut cyd_on_c, 3).await;
    assert!(
        is_online(&cluster, 0, ada, cyd).await,
        "cyd (on C) online as A sees it"
    );

    // A second socket of ada's, on C, is not a fourth member.
    let mut ada_on_c = cluster.ws(2, ada, &room, "").await;
    active_is(&mut ada_on_c, 3).await;

    // bob leaves: three sockets of two members remain.
    bob_on_b.close().await;
    active_is(&mut ada_on_a, 2).await;
    active_is(&mut cyd_on_c, 2).await;
    // Polled: going offline is not announced to anyone who could acknowledge it.
    whisper_e2e::eventually("bob offline as C sees it", DEADLINE, || async {
        (!is_online(&cluster, 2, cyd, bob).await).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_killed_instances_members_stop_counting() {
    let mut cluster = Cluster::start(2, Some(SHARED_REDIS_URL)).await;
    let people = cluster.sign_up_all(&["ada", "bob"]).await;
    let (ada, bob) = (&people[0], &people[1]);
    let room = cluster.create_room(0, ada, "General", &[bob]).await;
    let mut ada_on_a = cluster.ws(0, ada, &room, "").await;
    let _bob_on_b = cluster.ws(1, bob, &room, "").await;
    active_is(&mut ada_on_a, 2).await;
    assert!(
        is_online(&cluster, 0, ada, bob).await,
        "bob (on B) online as A sees it"
    );

    // B dies without a word: nobody removes bob's presence but its expiry (30 s), and A
    // recounts the room on its own schedule, hence DEADLINE rather than PROMPTLY.
    cluster.kill(1);
    wait_for(
        &mut ada_on_a,
        "chat.active 1 after B died",
        DEADLINE,
        |event| event["type"] == "chat.active" && event["content"] == 1,
    )
    .await;
    // Polled: going offline is not announced to anyone who could acknowledge it.
    whisper_e2e::eventually("bob offline as A sees it", DEADLINE, || async {
        (!is_online(&cluster, 0, ada, bob).await).then_some(())
    })
    .await;
    let me = cluster.call(0, bob, Method::GET, routes::ME, None).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["is_online"], false, "bob's own me/ on A: {me}");
    assert!(
        is_online(&cluster, 0, ada, ada).await,
        "ada, still connected to A, stays online"
    );
}

#[tokio::test]
async fn a_member_removed_on_one_instance_is_notified_then_closed_with_4001_on_another() {
    let cluster = Cluster::start(2, Some(SHARED_REDIS_URL)).await;
    let people = cluster.sign_up_all(&["ada", "bob"]).await;
    let (ada, bob) = (&people[0], &people[1]);
    let room = cluster.create_room(0, ada, "General", &[bob]).await;
    let mut ada_on_a = cluster.ws(0, ada, &room, "").await;
    let mut bob_on_b = cluster.ws(1, bob, &room, "").await;
    active_is(&mut ada_on_a, 2).await;
    active_is(&mut bob_on_b, 2).await;

    let path = routes::path(routes::ROOM_MEMBER, &[&room, &bob.id]);
    let removed = cluster.call(0, ada, Method::DELETE, &path, None).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);

    let (events, code) = bob_on_b.drain_until_close(PROMPTLY).await;
    assert_eq!(code, Some(4001), "after {events:?}");
    let notice = "bob was removed from the chat.";
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "chat.notification" && e["content"] == notice),
        "bob was closed without the notification first: {events:?}"
    );
    let what = "the removal notice on A";
    wait_for(&mut ada_on_a, what, PROMPTLY, |e| {
        e["type"] == "chat.notification" && e["content"] == notice
    })
    .await;
}

#[tokio::test]
async fn a_logout_on_one_instance_closes_sockets_on_others_with_1008() {
    let cluster = Cluster::start(3, Some(SHARED_REDIS_URL)).await;
    let people = cluster.sign_up_all(&["ada", "bob"]).await;
    let (ada, bob) = (&people[0], &people[1]);
    let room = cluster.create_room(0, ada, "General", &[bob]).await;
    let mut ada_on_a = cluster.ws(0, ada, &room, "").await;
    let mut bob_on_b = cluster.ws(1, bob, &room, "").await;
    let mut bob_on_c = cluster.ws(2, bob, &room, "").await;
    active_is(&mut ada_on_a, 2).await;

    let logout = cluster
        .call(0, bob, Method::POST, routes::LOGOUT, None)
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    // API.md allows 2 s; the test asserts the close itself, with a generous deadline.
    assert_eq!(bob_on_b.expect_close(PROMPTLY).await, Some(1008));
    assert_eq!(bob_on_c.expect_close(PROMPTLY).await, Some(1008));
    for index in 0..cluster.len() {
        let me = cluster
            .call(index, bob, Method::GET, routes::ME, None)
            .await;
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "instance {index}");
    }
    active_is(&mut ada_on_a, 1).await;
}
