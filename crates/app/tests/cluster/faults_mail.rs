//! The SMTP server away, then back: the outbox keeps every email queued at registration and
//! delivers each once the server answers again, none twice.

use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::json;
use whisper_e2e::accounts::fresh_client;
use whisper_http::routes;
use whisper_smtp::testing::{SinkReply, SmtpSink};

use crate::harness::{Cluster, DEADLINE, free_port};

/// Registers `<name>@example.org` on instance 0: its verification email is queued.
async fn register(cluster: &Cluster, name: &str) {
    let response = fresh_client()
        .post(format!("{}{}", cluster.url(0), routes::REGISTER))
        .json(&json!({"email": email_of(name), "username": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "register {name}");
}

fn email_of(name: &str) -> String {
    format!("{name}@example.org")
}

/// How many emails each recipient got from `sink`.
fn per_recipient(sink: &SmtpSink) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in sink.messages() {
        for to in message.to {
            *counts.entry(to).or_default() += 1;
        }
    }
    counts
}

/// The outbox as the database holds it: emails still to send, and how many of them failed
/// an attempt already (sent ones are deleted).
async fn outbox(cluster: &Cluster) -> (i64, i64) {
    let mut conn = AsyncPgConnection::establish(cluster.database_url())
        .await
        .unwrap();
    let count = |query: &'static str| sql::<BigInt>(query);
    let pending: i64 = diesel::select(count("(SELECT count(*) FROM mail_outbox)"))
        .get_result(&mut conn)
        .await
        .unwrap();
    let failed: i64 = diesel::select(count(
        "(SELECT count(*) FROM mail_outbox WHERE failed_attempts > 0)",
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    (pending, failed)
}

/// Waits until `failed` queued emails failed an attempt: the deliverer tried and gave up
/// for now.
async fn attempts_failed(cluster: &Cluster, failed: i64) {
    let what = format!("{failed} emails failing an attempt");
    whisper_e2e::eventually(&what, DEADLINE, || async {
        let (pending, failed_so_far) = outbox(cluster).await;
        (pending == failed && failed_so_far == failed).then_some(())
    })
    .await;
}

/// Waits until the outbox is empty (every email sent: nothing more will leave), then
/// panics unless each of `names` got exactly one email.
async fn each_arrives_once(cluster: &Cluster, sink: &SmtpSink, names: &[String]) {
    whisper_e2e::eventually("an empty outbox", DEADLINE, || async {
        (outbox(cluster).await.0 == 0).then_some(())
    })
    .await;
    let counts = per_recipient(sink);
    for name in names {
        assert_eq!(counts.get(&email_of(name)), Some(&1), "{name}: {counts:?}");
    }
    assert_eq!(sink.messages().len(), names.len(), "{counts:?}");
}

#[tokio::test]
async fn emails_queued_while_smtp_is_down_or_deferring_arrive_once_when_it_is_back() {
    // Nothing listens on this port until the test starts a sink there.
    let port = free_port();
    let mail = format!("smtp://127.0.0.1:{port}");
    let cluster = Cluster::start_with(1, None, &[("WHISPER_MAIL", &mail)]).await;
    let mut names: Vec<String> = (0..5).map(|n| format!("away{n}")).collect();
    for name in &names {
        register(&cluster, name).await;
    }
    attempts_failed(&cluster, 5).await;

    let sink = SmtpSink::start_on(port).await.unwrap();
    each_arrives_once(&cluster, &sink, &names).await;

    // Mid-way through a second batch the server starts deferring every recipient (451),
    // then accepts again: the deferred emails are retried, the delivered ones not resent.
    for n in 0..6 {
        let name = format!("batch{n}");
        register(&cluster, &name).await;
        names.push(name);
        if n == 1 {
            let what = "the batch's first two emails";
            whisper_e2e::eventually(what, DEADLINE, || async {
                (sink.messages().len() == 7).then_some(())
            })
            .await;
            sink.set_reply(SinkReply::Defer);
        }
    }
    attempts_failed(&cluster, 4).await;
    sink.set_reply(SinkReply::Accept);
    each_arrives_once(&cluster, &sink, &names).await;
    sink.stop().await;
}
