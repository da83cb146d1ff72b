//! Absolute links: the address people reach the server at, and the URLs built from it and
//! the route table (emailed verification links, media, older history pages, the social
//! sign-in redirect).

use std::fmt;

use whisper_domain::ports::AccountLinks;
use whisper_domain::{MessageId, RoomId};

use crate::routes;

/// The address people reach the server at (`WHISPER_PUBLIC_URL`), kept without a trailing
/// slash so every link is that address followed by a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// The configured address; a trailing slash (`https://chat.example.org/`) is dropped.
    pub fn new(configured: &str) -> Self {
        Self(configured.trim_end_matches('/').to_owned())
    }

    /// The address without a trailing slash, e.g. to compare with a browser's `Origin`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL of `route` with its `{…}` segments replaced by `values`.
    pub fn link(&self, route: &str, values: &[&str]) -> String {
        format!("{}{}", self.0, routes::path(route, values))
    }

    /// The emailed link that confirms an email address with `token`.
    pub fn email_verification(&self, token: &str) -> String {
        self.link(routes::VERIFY_EMAIL_COMPLETE, &[token])
    }

    /// Where the bytes of message `message`'s media are served (`media_url`).
    pub fn media(&self, message: &MessageId) -> String {
        self.link(routes::MEDIA, &[message.as_str()])
    }

    /// A page of `room`'s history: `query` is its `?cursor=…&page_size=…`
    /// (`previous_messages`).
    pub fn history_page(&self, room: &RoomId, query: &str) -> String {
        format!("{}{query}", self.link(routes::ROOM_HOME, &[room.as_str()]))
    }

    /// Where identity provider `backend` sends the browser back (the OAuth redirect URI).
    pub fn social_completion(&self, backend: &str) -> String {
        self.link(routes::SOCIAL_COMPLETE, &[backend])
    }
}

impl AccountLinks for PublicUrl {
    fn email_verification(&self, token: &str) -> String {
        PublicUrl::email_verification(self, token)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "V1StGXR8_Z5jdHi6B-myT";
    const MESSAGE: &str = "EYoT9lPS1H0oP5_CjuDDk";

    #[test]
    fn the_domain_gets_the_verification_route_as_its_account_links() {
        let links: &dyn AccountLinks = &PublicUrl::new("https://chat.example.org/");
        assert_eq!(
            links.email_verification("tok3n"),
            "https://chat.example.org/api/v1/user/verify-email/complete/tok3n/"
        );
    }

    #[test]
    fn links_are_the_same_with_or_without_a_trailing_slash() {
        for configured in ["https://chat.example.org", "https://chat.example.org/"] {
            let public = PublicUrl::new(configured);
            assert_eq!(public.as_str(), "https://chat.example.org");
            assert_eq!(
                public.email_verification("tok3n"),
                "https://chat.example.org/api/v1/user/verify-email/complete/tok3n/"
            );
            assert_eq!(
                public.media(&MessageId::parse(MESSAGE).unwrap()),
                format!("https://chat.example.org/api/v1/chat/media/{MESSAGE}/")
            );
            assert_eq!(
                public.history_page(&RoomId::parse(ROOM).unwrap(), "?cursor=abc&page_size=10"),
                format!(
                    "https://chat.example.org/api/v1/chat/home/{ROOM}/?cursor=abc&page_size=10"
                )
            );
            assert_eq!(
                public.social_completion("google-oauth2"),
                "https://chat.example.org/api/v1/user/social/complete/google-oauth2/"
            );
        }
    }

    #[test]
    fn a_public_url_with_a_path_keeps_it() {
        let public = PublicUrl::new("http://127.0.0.1:8000/whisper/");
        assert_eq!(
            public.email_verification("t"),
            "http://127.0.0.1:8000/whisper/api/v1/user/verify-email/complete/t/"
        );
        assert_eq!(public.to_string(), "http://127.0.0.1:8000/whisper");
    }
}
