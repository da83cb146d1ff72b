//! Signing in with an identity provider: `social/begin/<backend>/` and
//! `social/complete/<backend>/`. The `state` and PKCE verifier wait in the session cookie
//! between the two; a `state` works once.

use std::sync::Arc;

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use whisper_domain::{Accounts, DomainError, SocialIdentityProvider, SocialNextStep, User};

use super::flow::remember_email;
use super::login::continue_with_totp;
use crate::errors::ApiError;
use crate::rate_limit::AnonymousCaller;

const PENDING: &str = "social";

/// The identity providers this server offers, by backend name.
#[derive(Clone, Default)]
pub struct SocialProviders(Vec<Arc<dyn SocialIdentityProvider>>);

impl SocialProviders {
    /// The providers in `providers`.
    pub fn new(providers: Vec<Arc<dyn SocialIdentityProvider>>) -> Self {
        Self(providers)
    }

    fn find(&self, backend: &str) -> Result<&Arc<dyn SocialIdentityProvider>, ApiError> {
        self.0
            .iter()
            .find(|provider| provider.backend() == backend)
            .ok_or_else(|| {
                DomainError::not_found(
                    "unknown_backend",
                    "This sign-in provider is not available here.",
                )
                .into()
            })
    }
}

/// A sign-in waiting for the provider to send the browser back.
#[derive(Serialize, Deserialize)]
struct Pending {
    backend: String,
    state: String,
    verifier: String,
}

/// The provider's redirect back: `?code=&state=`, or `?error=` when the person declined.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn session_failure(error: impl std::fmt::Display) -> ApiError {
    DomainError::internal(format!("session: {error}")).into()
}

fn invalid_state() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_state",
        "This sign-in was not started here, or was already completed; start again.",
    )
}

/// GET `social/begin/<backend>/`: 302 to the provider.
pub async fn begin(
    _: AnonymousCaller,
    providers: web::Data<SocialProviders>,
    session: Session,
    backend: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let provider = providers.find(&backend)?;
    let start = provider.begin();
    let pending = Pending {
        backend: provider.backend().to_owned(),
        state: start.state,
        verifier: start.pkce_verifier,
    };
    session.insert(PENDING, pending).map_err(session_failure)?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, start.url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// The body of a 201 for an account created by social sign-in.
#[derive(Serialize)]
struct NewAccountBody {
    id: String,
    email: String,
    username: String,
    is_email_verified: bool,
    is_username_set: bool,
    is_new: bool,
    message: &'static str,
}

impl From<&User> for NewAccountBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            username: user.username.to_string(),
            is_email_verified: user.is_email_verified,
            is_username_set: user.is_username_set,
            is_new: true,
            message: "Proceed to 2FA setup.",
        }
    }
}

/// GET `social/complete/<backend>/`: the provider sent the browser back.
pub async fn complete(
    _: AnonymousCaller,
    providers: web::Data<SocialProviders>,
    accounts: web::Data<Accounts>,
    session: Session,
    backend: web::Path<String>,
    callback: web::Query<Callback>,
) -> Result<HttpResponse, ApiError> {
    let provider = providers.find(&backend)?;
    // A missing or unknown state consumes nothing: the genuine sign-in can still finish.
    let pending: Pending = session
        .get(PENDING)
        .map_err(session_failure)?
        .ok_or_else(invalid_state)?;
    let returned = callback.state.as_deref().ok_or_else(invalid_state)?;
    if pending.backend != provider.backend() || pending.state != returned {
        return Err(invalid_state());
    }
    session.remove(PENDING);
    if callback.error.is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "provider_denied",
            "The sign-in was declined at the provider.",
        ));
    }
    let code = callback
        .code
        .as_deref()
        .filter(|code| !code.is_empty())
        .ok_or_else(|| DomainError::invalid("code", "The provider sent no code."))?;
    let identity = provider.identify(code, &pending.verifier).await?;
    let signed_in = accounts.sign_in_with(provider.backend(), &identity).await?;
    match signed_in.next {
        SocialNextStep::SetUpTotp => {
            remember_email(&session, &signed_in.user.email)?;
            Ok(HttpResponse::Created().json(NewAccountBody::from(&signed_in.user)))
        }
        SocialNextStep::TotpSetupRequired => {
            remember_email(&session, &signed_in.user.email)?;
            Err(DomainError::unauthenticated(
                "totp_setup_required",
                "Set up two-factor authentication to finish signing in.",
            )
            .into())
        }
        SocialNextStep::VerifyTotp => continue_with_totp(&session, &signed_in.user.email),
    }
}
