//! A stand-in for Google's OAuth2 and userinfo endpoints on loopback. Like Google, it
//! redirects the browser back with a one-time code, and exchanges that code only for the
//! PKCE verifier matching the challenge and the same redirect URI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// How the fake token endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// Like Google.
    Normal,
    /// Answers 500.
    Fail,
    /// Answers after this long.
    Slow(Duration),
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    used: bool,
}

#[derive(Default)]
struct State {
    identity: Value,
    mode: Option<TokenMode>,
    grants: HashMap<String, Grant>,
    tokens: HashMap<String, Value>,
    exchanges: Vec<Result<(), String>>,
}

/// The running fake provider.
pub struct FakeGoogle {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    state: Arc<Mutex<State>>,
    server: ServerHandle,
}

impl FakeGoogle {
    /// Starts the fake; it describes everyone as `identity` (an OIDC userinfo object).
    pub async fn start(identity: Value) -> Self {
        let state = Arc::new(Mutex::new(State {
            identity,
            ..State::default()
        }));
        let shared = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/auth", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let address = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            address,
            state,
            server: handle,
        }
    }

    /// The settings pointing the app at this fake.
    pub fn env(&self) -> [(String, String); 5] {
        [
            (
                "WHISPER_GOOGLE_CLIENT_ID".into(),
                "whisper-test-client".into(),
            ),
            (
                "WHISPER_GOOGLE_CLIENT_SECRET".into(),
                "whisper-test-secret".into(),
            ),
            (
                "WHISPER_GOOGLE_AUTH_URL".into(),
                format!("{}/auth", self.address),
            ),
            (
                "WHISPER_GOOGLE_TOKEN_URL".into(),
                format!("{}/token", self.address),
            ),
            (
                "WHISPER_GOOGLE_USERINFO_URL".into(),
                format!("{}/userinfo", self.address),
            ),
        ]
    }

    /// Describes the next people as `identity`.
    pub fn set_identity(&self, identity: Value) {
        self.state.lock().unwrap().identity = identity;
    }

    /// Makes the token endpoint behave as `mode`.
    pub fn set_token_mode(&self, mode: TokenMode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// Every code exchange so far: `Ok` when the PKCE verifier and redirect URI matched.
    pub fn exchanges(&self) -> Vec<Result<(), String>> {
        self.state.lock().unwrap().exchanges.clone()
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    format!("{prefix}-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The person signs in and consents at once: back to the redirect URI with a code.
async fn authorize(
    state: web::Data<Mutex<State>>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let param = |name: &str| query.get(name).cloned().unwrap_or_default();
    let problems: Vec<&str> = [
        (param("response_type") != "code", "response_type"),
        (param("client_id") != "whisper-test-client", "client_id"),
        (
            param("code_challenge_method") != "S256",
            "code_challenge_method",
        ),
        (param("scope") != "openid email profile", "scope"),
        (param("state").is_empty(), "state"),
    ]
    .into_iter()
    .filter_map(|(bad, name)| bad.then_some(name))
    .collect();
    if !problems.is_empty() {
        return HttpResponse::BadRequest().body(format!("bad {problems:?}"));
    }
    let code = random_token("code");
    let redirect_uri = param("redirect_uri");
    state.lock().unwrap().grants.insert(
        code.clone(),
        Grant {
            challenge: param("code_challenge"),
            redirect_uri: redirect_uri.clone(),
            used: false,
        },
    );
    let mut back = url::Url::parse(&redirect_uri).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &param("state"));
    HttpResponse::Found()
        .insert_header(("Location", back.to_string()))
        .finish()
}

async fn token(
    state: web::Data<Mutex<State>>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let mode = state.lock().unwrap().mode.unwrap_or(TokenMode::Normal);
    match mode {
        TokenMode::Fail => return HttpResponse::InternalServerError().body("boom"),
        TokenMode::Slow(delay) => tokio::time::sleep(delay).await,
        TokenMode::Normal => {}
    }
    let mut state = state.lock().unwrap();
    let outcome = check_exchange(&mut state, &form);
    state.exchanges.push(outcome.clone());
    match outcome {
        Ok(()) => {
            let access = random_token("access");
            let identity = state.identity.clone();
            state.tokens.insert(access.clone(), identity);
            HttpResponse::Ok().json(json!({
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": "openid email profile",
            }))
        }
        Err(reason) => HttpResponse::BadRequest()
            .json(json!({"error": "invalid_grant", "error_description": reason})),
    }
}

fn check_exchange(state: &mut State, form: &HashMap<String, String>) -> Result<(), String> {
    let param = |name: &str| form.get(name).cloned().unwrap_or_default();
    if param("grant_type") != "authorization_code" {
        return Err("grant_type".into());
    }
    let grant = state.grants.get_mut(&param("code")).ok_or("unknown code")?;
    if grant.used {
        return Err("code already used".into());
    }
    grant.used = true;
    if grant.redirect_uri != param("redirect_uri") {
        return Err("redirect_uri differs from the authorization request".into());
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(param("code_verifier").as_bytes()));
    if challenge != grant.challenge {
        return Err("PKCE verifier does not match the challenge".into());
    }
    Ok(())
}

async fn userinfo(state: web::Data<Mutex<State>>, request: HttpRequest) -> HttpResponse {
    let token = request
        .headers()
        .get("Authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    match state.lock().unwrap().tokens.get(token) {
        Some(identity) => HttpResponse::Ok().json(identity),
        None => HttpResponse::Unauthorized().finish(),
    }
}
