//! Signing in with an outside identity provider (Google): who the provider says the person
//! is, and the port that asks it.

use async_trait::async_trait;

use crate::error::DomainResult;

/// A sign-in started at a provider: where to send the browser, and what to keep (in the
/// session) until it comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialAuthorization {
    /// The provider's authorization URL, carrying `state` and the PKCE challenge.
    pub url: String,
    /// The anti-forgery value the provider sends back; must match on return.
    pub state: String,
    /// The PKCE verifier proving, at the code exchange, that we started this sign-in.
    pub pkce_verifier: String,
}

/// The person as the provider describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialIdentity {
    /// The provider's stable id for the person (`sub`).
    pub subject: String,
    /// Their email address as the provider gives it.
    pub email: String,
    /// Whether the provider vouches that they own that address.
    pub email_verified: bool,
    /// Their display name, if the provider shares it.
    pub name: Option<String>,
}

/// An identity provider reached with OAuth2 authorization code + PKCE.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SocialIdentityProvider: Send + Sync {
    /// The backend's name in URLs, e.g. `google-oauth2`.
    fn backend(&self) -> &'static str;
    /// A new sign-in: a fresh `state` and PKCE pair, and the URL to send the browser to.
    fn begin(&self) -> SocialAuthorization;
    /// Exchanges the returned `code` (with the sign-in's PKCE verifier) and asks who it is.
    /// MUST return `Upstream` when the provider fails, refuses or does not answer in time.
    async fn identify(&self, code: &str, pkce_verifier: &str) -> DomainResult<SocialIdentity>;
}
