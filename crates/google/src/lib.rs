//! Google sign-in: the domain's [`SocialIdentityProvider`] over OAuth2 authorization code
//! with PKCE (S256) and `state`, then the OpenID Connect userinfo endpoint. All three
//! endpoints are configurable so tests can point them at a fake provider; every call has a
//! timeout. Provider tokens live only in memory for the duration of one sign-in: they are
//! never logged or stored.

use std::time::Duration;

use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use url::Url;
use whisper_domain::{
    DomainError, DomainResult, Service, SocialAuthorization, SocialIdentity, SocialIdentityProvider,
};

/// The backend's name in Whisper's URLs.
pub const BACKEND: &str = "google-oauth2";

/// Google's endpoints, the defaults.
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's OpenID Connect userinfo endpoint.
pub const GOOGLE_USERINFO_URL: &str = "https://openidconnect.googleapis.com/v1/userinfo";

const SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// How to reach Google (or a stand-in).
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Option<String>,
    /// Where the browser is sent to sign in.
    pub auth_url: Url,
    /// Where codes are exchanged for tokens.
    pub token_url: Url,
    /// Where the signed-in person is described.
    pub userinfo_url: Url,
    /// The public URL's social completion route for [`BACKEND`], registered with Google.
    pub redirect_url: Url,
    /// The longest any one call may take.
    pub timeout: Duration,
}

/// Building the adapter failed: the configuration cannot work.
#[derive(Debug, thiserror::Error)]
#[error("Google sign-in: {0}")]
pub struct GoogleSetupError(String);

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Google as a [`SocialIdentityProvider`].
pub struct GoogleSignIn {
    client: Client,
    http: reqwest::Client,
    userinfo_url: Url,
}

impl GoogleSignIn {
    /// The adapter for `config`.
    pub fn new(config: GoogleConfig) -> Result<Self, GoogleSetupError> {
        let setup =
            |what: &str, e: &dyn std::fmt::Display| GoogleSetupError(format!("{what}: {e}"));
        let mut client = BasicClient::new(ClientId::new(config.client_id))
            .set_auth_uri(AuthUrl::from_url(config.auth_url))
            .set_token_uri(TokenUrl::from_url(config.token_url))
            .set_redirect_uri(RedirectUrl::from_url(config.redirect_url));
        if let Some(secret) = config.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret));
        }
        let http = reqwest::Client::builder()
            // Following redirects from a token endpoint invites SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| setup("HTTP client", &e))?;
        Ok(Self {
            client,
            http,
            userinfo_url: config.userinfo_url,
        })
    }
}

/// A provider failure, described without any token.
fn upstream(reason: String) -> DomainError {
    DomainError::Upstream {
        service: Service::IdentityProvider,
        reason,
    }
}

/// The OIDC userinfo fields Whisper reads.
#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    email: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    email_verified: bool,
    name: Option<String>,
}

/// Some providers send `email_verified` as the string `"true"`.
fn flexible_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(flag) => flag,
        Flag::Text(text) => text.eq_ignore_ascii_case("true"),
    })
}

#[async_trait]
impl SocialIdentityProvider for GoogleSignIn {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn begin(&self) -> SocialAuthorization {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(SCOPES.map(|scope| Scope::new(scope.to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        SocialAuthorization {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        }
    }

    async fn identify(&self, code: &str, pkce_verifier: &str) -> DomainResult<SocialIdentity> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| upstream(format!("code exchange failed: {e}")))?;
        let response = self
            .http
            .get(self.userinfo_url.clone())
            .bearer_auth(token.access_token().secret())
            .send()
            .await
            .map_err(|e| upstream(format!("userinfo request failed: {}", without_url(&e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(upstream(format!("userinfo answered {status}")));
        }
        let info: UserInfo = response
            .json()
            .await
            .map_err(|e| upstream(format!("userinfo is not valid JSON: {}", without_url(&e))))?;
        let email = info.email.ok_or_else(|| {
            upstream("userinfo has no email (is the email scope granted?)".into())
        })?;
        Ok(SocialIdentity {
            subject: info.sub,
            email,
            email_verified: info.email_verified,
            name: info.name.filter(|name| !name.trim().is_empty()),
        })
    }
}

/// A reqwest error's description; its URL never carries tokens here, but keep logs short.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_decode() {
        "could not decode the answer"
    } else {
        "failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> GoogleSignIn {
        GoogleSignIn::new(GoogleConfig {
            client_id: "client-1".into(),
            client_secret: Some("s3cret".into()),
            auth_url: Url::parse(GOOGLE_AUTH_URL).unwrap(),
            token_url: Url::parse(GOOGLE_TOKEN_URL).unwrap(),
            userinfo_url: Url::parse(GOOGLE_USERINFO_URL).unwrap(),
            redirect_url: Url::parse(
                "https://chat.example.org/api/v1/user/social/complete/google-oauth2/",
            )
            .unwrap(),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    #[test]
    fn the_authorization_url_carries_state_pkce_scopes_and_the_redirect() {
        let start = adapter().begin();
        let url = Url::parse(&start.url).unwrap();
        assert!(start.url.starts_with(GOOGLE_AUTH_URL));
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        assert_eq!(param("response_type").as_deref(), Some("code"));
        assert_eq!(param("client_id").as_deref(), Some("client-1"));
        assert_eq!(param("state"), Some(start.state.clone()));
        assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
        assert_eq!(param("scope").as_deref(), Some("openid email profile"));
        assert_eq!(
            param("redirect_uri").as_deref(),
            Some("https://chat.example.org/api/v1/user/social/complete/google-oauth2/")
        );
        let challenge = param("code_challenge").unwrap();
        let expected = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            start.pkce_verifier,
        ));
        assert_eq!(&challenge, expected.as_str());
    }

    #[test]
    fn every_sign_in_gets_its_own_state_and_verifier() {
        let google = adapter();
        let (a, b) = (google.begin(), google.begin());
        assert_ne!(a.state, b.state);
        assert_ne!(a.pkce_verifier, b.pkce_verifier);
    }

    #[test]
    fn email_verified_may_be_a_string() {
        let info: UserInfo =
            serde_json::from_str(r#"{"sub":"1","email":"a@b.org","email_verified":"true"}"#)
                .unwrap();
        assert!(info.email_verified);
        let info: UserInfo = serde_json::from_str(r#"{"sub":"1"}"#).unwrap();
        assert!(!info.email_verified);
    }
}
