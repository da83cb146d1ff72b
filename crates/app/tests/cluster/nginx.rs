//! `deploy/nginx.conf` as it runs in production, in front of two instances: HTTPS REST,
//! WSS with messages crossing instances, the HTTP -> HTTPS redirect, and rate limits that
//! count the real client only when nginx (the one trusted proxy) names it.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use whisper_e2e::tls;
use whisper_e2e::ws::WsClient;
use whisper_http::routes;

use crate::harness::nginx::{Certificate, Nginx, https_client};
use crate::harness::{
    Cluster, Member, PROMPTLY, SHARED_REDIS_URL, active_is, free_port, message, messages_until,
};

/// The per-IP budget of anonymous requests (crates/http/src/limits.rs: 50 a minute, as a
/// burst); the most any caller can send before a 429, with room for refills.
const ANONYMOUS_BUDGET: usize = 50;
const MORE_THAN_THE_BUDGET: usize = 3 * ANONYMOUS_BUDGET;

/// Two instances on the shared Redis (so the limits are shared too), trusting only the
/// proxy on 127.0.0.1, with rate limits on; nginx in front of them.
async fn cluster_behind_nginx() -> (Cluster, Nginx, Certificate) {
    let https_port = free_port();
    let public_url = format!("https://localhost:{https_port}");
    let cluster = Cluster::start_with(
        2,
        Some(SHARED_REDIS_URL),
        &[
            ("WHISPER_RATE_LIMITS", "on"),
            ("WHISPER_TRUSTED_PROXIES", "127.0.0.1"),
            ("WHISPER_PUBLIC_URL", &public_url),
            // Request lines, to tell which instance served a socket.
            ("WHISPER_LOG", "info"),
        ],
    )
    .await;
    let certificate = Certificate::generate(&cluster.work.0);
    let ports = [cluster.instances[0].port, cluster.instances[1].port];
    let nginx = Nginx::start(ports, https_port, &certificate).await;
    (cluster, nginx, certificate)
}

#[tokio::test]
async fn nginx_serves_https_rest_and_wss_across_both_instances_and_redirects_http() {
    let (cluster, nginx, certificate) = cluster_behind_nginx().await;
    let client = || https_client(&certificate.pem, nginx.https_port, None);

    // REST over verified HTTPS: sign-up, login (two-factor) and a room, all through nginx.
    let base = nginx.https_url();
    let ada = cluster.sign_up_via("ada", &base, &client()).await;
    let bob = cluster.sign_up_via("bob", &base, &client()).await;
    let room = create_room(&client(), &base, &ada, &bob).await;

    // Two sockets in a row: round-robin gives each instance one.
    let path = routes::path(routes::CHAT_SOCKET, &[&room]);
    let url = format!("{}{path}", nginx.wss_url());
    let trusted = tls::trusting(&certificate.pem);
    let mut sockets = Vec::new();
    for member in [&ada, &bob] {
        let bearer = [("authorization", format!("Bearer {}", member.access))];
        let socket = WsClient::connect_tls(&url, &bearer, trusted.clone()).await;
        sockets.push(socket.unwrap_or_else(|refused| panic!("{refused:?}")));
    }
    for socket in &mut sockets {
        active_is(socket, 2).await;
    }
    for index in 0..cluster.len() {
        assert!(
            cluster.log_count(index, routes::CHAT_SOCKET) > 0,
            "instance {index} served no socket:\n{}",
            cluster.logs()
        );
    }
    sockets[0]
        .send_json(&message("through nginx", "c-nginx"))
        .await;
    let received = messages_until(&mut sockets[1], "through nginx", PROMPTLY).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["username"], "ada", "{received:?}");

    // Plain HTTP is redirected to the same path over HTTPS.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = plain
        .get(format!("{}/x?y=1", nginx.http_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        response.headers()["location"],
        format!("https://localhost:{}/x?y=1", nginx.https_port).as_str()
    );
}

#[tokio::test]
async fn rate_limits_count_the_client_nginx_names_and_ignore_forged_headers() {
    let (cluster, nginx, certificate) = cluster_behind_nginx().await;
    let via_nginx = |from| https_client(&certificate.pem, nginx.https_port, Some(from));
    let anonymous = format!("{}{}", nginx.https_url(), routes::TOTP_VERIFY);

    // Through nginx every request comes from 127.0.0.1; the limiter sees 127.0.0.2 ...
    let from_2 = via_nginx([127, 0, 0, 2]);
    let accepted = until_refused(|| from_2.get(&anonymous)).await;
    assert!(accepted >= ANONYMOUS_BUDGET, "a budget of {accepted}");
    // ... and 127.0.0.3, with a budget of its own.
    let from_3 = via_nginx([127, 0, 0, 3]);
    assert_all_accepted(&from_3, &anonymous).await;

    // Directly to an instance, 127.0.0.4 is not trusted: its claim to be 127.0.0.3 is
    // ignored, it spends its own budget and 127.0.0.3 keeps all of its.
    let direct = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 4]))
        .build()
        .unwrap();
    let instance = format!("{}{}", cluster.url(0), routes::TOTP_VERIFY);
    let accepted =
        until_refused(|| direct.get(&instance).header("X-Forwarded-For", "127.0.0.3")).await;
    assert!(accepted >= ANONYMOUS_BUDGET, "a budget of {accepted}");
    assert_all_accepted(&from_3, &anonymous).await;
}

/// Sends `request()` until it is refused with 429 `rate_limited`; how many were accepted.
async fn until_refused(request: impl Fn() -> reqwest::RequestBuilder) -> usize {
    for accepted in 0..MORE_THAN_THE_BUDGET {
        let response = request().send().await.unwrap();
        match response.status() {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "rate_limited", "{body}");
                return accepted;
            }
            other => panic!("request {accepted} answered {other}"),
        }
    }
    panic!("{MORE_THAN_THE_BUDGET} anonymous requests and none refused");
}

/// A tenth of the budget at once, every one accepted: a spent budget (refilling less
/// than one request a second) could not give that many.
async fn assert_all_accepted(client: &reqwest::Client, url: &str) {
    for n in 0..ANONYMOUS_BUDGET / 10 {
        let status = client.get(url).send().await.unwrap().status();
        assert_eq!(status, StatusCode::OK, "request {n} to {url}");
    }
}

/// `creator`'s new room with `member`, created over HTTPS through nginx; its id.
async fn create_room(
    client: &reqwest::Client,
    base: &str,
    creator: &Member,
    member: &Member,
) -> String {
    let body = serde_json::json!({"room_name": "Front door", "user_ids": [member.id]});
    let response = client
        .request(Method::POST, format!("{base}{}", routes::ROOM_LIST))
        .bearer_auth(&creator.access)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "create room");
    let room: Value = response.json().await.unwrap();
    room["id"].as_str().unwrap().to_owned()
}
