//! Signing in with an identity provider: `social/begin/<backend>/` and
//! `social/complete/<backend>/`. The `state` and PKCE verifier wait in the session cookie
//! between the two; a `state` works once.

use std::sync::Arc;

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use whisper_domain::{DomainError, Field, Flaw, Missing, SocialIdentityProvider, SocialNextStep};
use whisper_http::ApiError;
use whisper_http::flow::{remember_email, session_failure};
use whisper_http::rate_limit::AnonymousCaller;
use whisper_http::routes;
use whisper_wire::ErrorBody;
use whisper_wire::accounts::{NewAccountBody, NextStepBody};

use super::FlowStep;
use super::login::continue_with_totp;
use crate::openapi::CommonErrors;

const PENDING: &str = "social";

/// The identity providers this server offers, by backend name.
#[derive(Clone, Default)]
pub struct SocialProviders(Vec<Arc<dyn SocialIdentityProvider>>);

impl SocialProviders {
    /// The providers in `providers`.
    pub fn new(providers: Vec<Arc<dyn SocialIdentityProvider>>) -> Self {
        Self(providers)
    }

    /// Whether sign-in through `backend` is configured.
    pub fn offers(&self, backend: &str) -> bool {
        self.0.iter().any(|provider| provider.backend() == backend)
    }

    fn find(&self, backend: &str) -> Result<&Arc<dyn SocialIdentityProvider>, ApiError> {
        self.0
            .iter()
            .find(|provider| provider.backend() == backend)
            .ok_or_else(|| DomainError::NotFound(Missing::SocialProvider).into())
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
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    /// The authorization code.
    code: Option<String>,
    /// The `state` sent to the provider by `social/begin/`.
    state: Option<String>,
    /// Set by the provider when the person declined.
    error: Option<String>,
}

fn invalid_state() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_state",
        "This sign-in was not started here, or was already completed; start again.",
    )
}

/// GET `social/begin/<backend>/`: 302 to the provider.
#[utoipa::path(
    get,
    path = routes::SOCIAL_BEGIN,
    operation_id = "user_social_begin",
    tag = "users",
    summary = "Sign in with a provider",
    description = "Redirects the browser to the provider; the `state` and PKCE verifier are \
        kept in the session cookie.",
    params(("backend" = String, Path, description = "The provider.",
        example = "google-oauth2")),
    responses(
        (status = 302, description = "Found: go to the provider.",
            headers(("Location" = String, description = "The provider's authorization URL."))),
        (status = 404, description = "`unknown_backend`.", body = ErrorBody),
        (status = 429, response = crate::openapi::TooManyRequests),
    ),
)]
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

/// GET `social/complete/<backend>/`: the provider sent the browser back.
#[utoipa::path(
    get,
    path = routes::SOCIAL_COMPLETE,
    operation_id = "user_social_complete",
    tag = "users",
    summary = "The provider's redirect back",
    description = "Finishes a social sign-in started by `social/begin/` (same session cookie). \
        Accounts match by email. The email goes into the session in every case. A browser \
        (`Accept` preferring `text/html`) is sent on with 303 to the page of its next step \
        instead: `/setup-2fa/`, or `/login/?step=code`.",
    params(
        ("backend" = String, Path, description = "The provider.", example = "google-oauth2"),
        Callback,
    ),
    responses(
        (status = 201, description = "A new account: proceed to 2FA setup.",
            body = NewAccountBody),
        (status = 303, description = "See Other: an existing account with 2FA; POST the code \
            to `totp/verify/`.", body = NextStepBody,
            headers(("Location" = String, description = "The second login step, `totp/verify/`."))),
        (status = 400, description = "`invalid_state` (missing, unknown or used state), \
            `provider_denied` or `invalid_input` (no code).", body = ErrorBody),
        (status = 401, description = "`totp_setup_required`: an existing account without 2FA; \
            continue with `totp-device/create/`.", body = ErrorBody),
        (status = 403, description = "`email_not_verified`: the provider says unverified, or \
            the existing account never verified.", body = ErrorBody),
        (status = 404, description = "`unknown_backend`.", body = ErrorBody),
        (status = 502, description = "`provider_error`: the provider failed or timed out.",
            body = ErrorBody),
        CommonErrors,
    ),
)]
pub async fn complete(
    request: HttpRequest,
    FlowStep { accounts, session }: FlowStep,
    providers: web::Data<SocialProviders>,
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
        .ok_or_else(|| {
            DomainError::invalid(Field::AuthorizationCode, Flaw::AuthorizationCodeMissing)
        })?;
    let identity = provider.identify(code, &pending.verifier).await?;
    let signed_in = accounts.sign_in_with(provider.backend(), &identity).await?;
    // A person in a browser arrives here by the provider's redirect: the pages take over.
    if crate::pages::prefers_html(&request) {
        remember_email(&session, &signed_in.user.email)?;
        let page = match signed_in.next {
            SocialNextStep::SetUpTotp | SocialNextStep::TotpSetupRequired => {
                routes::PAGE_SETUP_2FA.to_owned()
            }
            SocialNextStep::VerifyTotp => format!("{}?step=code", routes::PAGE_LOGIN),
        };
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, page))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    }
    match signed_in.next {
        SocialNextStep::SetUpTotp => {
            remember_email(&session, &signed_in.user.email)?;
            Ok(HttpResponse::Created().json(NewAccountBody::from(&signed_in.user)))
        }
        SocialNextStep::TotpSetupRequired => {
            remember_email(&session, &signed_in.user.email)?;
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "totp_setup_required",
                "Set up two-factor authentication to finish signing in.",
            ))
        }
        SocialNextStep::VerifyTotp => continue_with_totp(&session, &signed_in.user.email),
    }
}
