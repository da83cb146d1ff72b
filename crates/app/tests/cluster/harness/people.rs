//! People using the cluster the way an API client does: they sign up (reading the emailed
//! link from the shared mail files), create rooms, read history and log out, each call on
//! whichever instance the test names.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whisper_e2e::accounts::{Authenticator, fresh_client};
use whisper_http::routes;

use super::Cluster;

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Member {
    /// The account id.
    pub id: String,
    /// The username (the name given at sign-up).
    pub username: String,
    /// The access token.
    pub access: String,
}

impl Cluster {
    /// Signs `name` up and in (`<name>@example.org`), moving from instance to instance at
    /// every step from `first` on: one session cookie, honoured by every instance.
    pub async fn sign_up(&self, name: &str, first: usize) -> Member {
        let mut step = first;
        let next_url = || {
            let url = self.url(step % self.len());
            step += 1;
            url
        };
        self.sign_up_with(name, &fresh_client(), next_url).await
    }

    /// Signs `name` up and in through `base` (e.g. a proxy in front of the instances) with
    /// `client`, which keeps cookies and does not follow redirects.
    pub async fn sign_up_via(&self, name: &str, base: &str, client: &reqwest::Client) -> Member {
        self.sign_up_with(name, client, || base.to_owned()).await
    }

    /// The sign-up of `name`, each step sent to the base URL `next_url` gives.
    async fn sign_up_with(
        &self,
        name: &str,
        client: &reqwest::Client,
        mut next_url: impl FnMut() -> String,
    ) -> Member {
        let email = format!("{name}@example.org");
        let register = json!({"email": email, "username": name});
        let response = client
            .post(format!("{}{}", next_url(), routes::REGISTER))
            .json(&register)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "register {name}");
        let link = self.verification_link(&email).await;
        let path = url::Url::parse(&link).unwrap().path().to_owned();
        let verified = client.post(format!("{}{path}", next_url())).send().await;
        assert_eq!(verified.unwrap().status(), StatusCode::OK, "verify {name}");
        let created = client
            .post(format!("{}{}", next_url(), routes::TOTP_DEVICE_CREATE))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED, "device of {name}");
        let qr = client
            .post(format!("{}{}", next_url(), routes::QR_CODE))
            .send()
            .await
            .unwrap();
        assert_eq!(qr.status(), StatusCode::OK, "QR code of {name}");
        let authenticator = Authenticator::scan(&qr.bytes().await.unwrap());
        // The previous step confirms the device and the current one logs in (each step is
        // accepted once per account).
        let totp_step = Authenticator::settled_step().await;
        let confirmed = client
            .post(format!("{}{}", next_url(), routes::TOTP_DEVICE_VERIFY))
            .json(&authenticator.otp_at(totp_step - 1))
            .send()
            .await
            .unwrap();
        assert_eq!(confirmed.status(), StatusCode::OK, "confirm {name}");
        let login = client
            .post(format!("{}{}", next_url(), routes::LOGIN))
            .json(&json!({"email": email}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), StatusCode::SEE_OTHER, "login {name}");
        let tokens = client
            .post(format!("{}{}", next_url(), routes::TOTP_VERIFY))
            .json(&authenticator.otp_at(totp_step))
            .send()
            .await
            .unwrap();
        assert_eq!(tokens.status(), StatusCode::OK, "totp/verify {name}");
        let tokens: Value = tokens.json().await.unwrap();
        Member {
            id: tokens["id"].as_str().unwrap().to_owned(),
            username: name.to_owned(),
            access: tokens["access"].as_str().unwrap().to_owned(),
        }
    }

    /// Signs `names` up at once, the n-th starting on instance n (round-robin).
    pub async fn sign_up_all(&self, names: &[&str]) -> Vec<Member> {
        let signing_up = names
            .iter()
            .enumerate()
            .map(|(index, name)| self.sign_up(name, index));
        futures_util::future::join_all(signing_up).await
    }

    /// `method <path>` on instance `index` as `member`, with an optional JSON body.
    pub async fn call(
        &self,
        index: usize,
        member: &Member,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = fresh_client()
            .request(method, format!("{}{path}", self.url(index)))
            .bearer_auth(&member.access)
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Creates room `name` on instance `index` as `creator`, with `members`; its id.
    pub async fn create_room(
        &self,
        index: usize,
        creator: &Member,
        name: &str,
        members: &[&Member],
    ) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let body = json!({"room_name": name, "user_ids": ids});
        let response = self
            .call(index, creator, Method::POST, routes::ROOM_LIST, Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create room {name}");
        let room: Value = response.json().await.unwrap();
        room["id"].as_str().unwrap().to_owned()
    }

    /// Every message of `room` as `member` reads it on instance `index`, oldest first.
    pub async fn history(&self, index: usize, member: &Member, room: &str) -> Vec<Value> {
        let mut messages = Vec::new();
        let mut path = format!("{}?page_size=100", routes::path(routes::ROOM_HOME, &[room]));
        loop {
            let response = self.call(index, member, Method::GET, &path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "history of {room}");
            let page: Value = response.json().await.unwrap();
            messages.extend(page["results"].as_array().unwrap().iter().cloned());
            match page["previous_messages"].as_str() {
                None => break,
                Some(next) => {
                    let next = url::Url::parse(next).unwrap();
                    path = format!("{}?{}", next.path(), next.query().unwrap_or_default());
                }
            }
        }
        messages.reverse();
        messages
    }
}

impl Cluster {
    /// Signs up `count` people named `<prefix><n>`, `in_flight` at a time, the n-th
    /// starting on instance n (round-robin); in order.
    pub async fn sign_up_many(&self, prefix: &str, count: usize, in_flight: usize) -> Vec<Member> {
        let names: Vec<String> = (0..count).map(|n| format!("{prefix}{n}")).collect();
        futures_util::stream::iter(names.iter().enumerate())
            .map(|(index, name)| self.sign_up(name, index))
            .buffered(in_flight)
            .collect()
            .await
    }

    /// The verification link the server mailed to `email`, read from the shared `.eml`
    /// files (each file parsed once). Polled: the outbox writes the file in the background,
    /// with nothing to wait on.
    async fn verification_link(&self, email: &str) -> String {
        let what = format!("the verification email to {email}");
        let mail_dir = self.mail_dir();
        whisper_e2e::eventually(&what, Duration::from_secs(30), || async {
            let entries = std::fs::read_dir(&mail_dir).ok()?;
            let mut recipients = self.recipients.lock().unwrap();
            entries.flatten().find_map(|entry| {
                let path = entry.path();
                if !recipients.contains_key(&path) {
                    // A file still being written has no recipient yet: read it again later.
                    let raw = std::fs::read(&path).ok()?;
                    let to = whisper_smtp::testing::to_address(&raw)?;
                    recipients.insert(path.clone(), to);
                }
                (recipients.get(&path)? == email)
                    .then(|| whisper_smtp::testing::first_link(&std::fs::read(&path).ok()?))?
            })
        })
        .await
    }
}
