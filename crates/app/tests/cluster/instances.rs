//! What the harness itself promises, and what holds for instances even without Redis:
//! one database, one secret key, one mail directory, and instances that die and return.

use reqwest::{Method, StatusCode};
use whisper_http::routes;

use crate::harness::{Cluster, PROMPTLY, message, messages_until};

#[tokio::test]
async fn instances_share_the_database_the_key_and_the_mail() {
    let cluster = Cluster::start(3, None).await;
    // Each sign-up moves through all three instances on one session cookie.
    let people = cluster.sign_up_all(&["ada", "bob"]).await;
    let (ada, bob) = (&people[0], &people[1]);
    let room = cluster.create_room(2, ada, "General", &[bob]).await;

    let mut socket = cluster.ws(0, ada, &room, "").await;
    socket.send_json(&message("hello", "c-1")).await;
    let echo = messages_until(&mut socket, "hello", PROMPTLY).await;
    assert_eq!(echo[0]["client_id"], "c-1");

    // bob reads it on another instance, with a token issued by a third one.
    let history = cluster.history(1, bob, &room).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["id"], echo[0]["id"]);
}

#[tokio::test]
async fn a_killed_instance_restarts_on_its_port_and_loses_nothing() {
    let mut cluster = Cluster::start(2, None).await;
    let ada = cluster.sign_up("ada", 0).await;
    let room = cluster.create_room(0, &ada, "General", &[]).await;
    let mut socket = cluster.ws(0, &ada, &room, "").await;
    socket.send_json(&message("before", "c-1")).await;
    let before = messages_until(&mut socket, "before", PROMPTLY).await;

    cluster.kill(0);
    // The socket ends without a close frame: the process is gone.
    assert_eq!(socket.expect_close(PROMPTLY).await, None);
    assert!(
        !cluster.answers(0).await,
        "instance 0 still answers after SIGKILL"
    );

    cluster.restart(0).await;
    let me = cluster.call(0, &ada, Method::GET, routes::ME, None).await;
    assert_eq!(
        me.status(),
        StatusCode::OK,
        "the token outlives the process"
    );
    let history = cluster.history(0, &ada, &room).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["id"], before[0]["id"]);
}
