//! The absolute addresses emailed links point to: the public URL and the route that
//! serves each link.

use whisper_domain::ports::AccountLinks;

use crate::PublicUrl;

/// Links under the address people reach the server at.
#[derive(Debug, Clone)]
pub struct PublicLinks {
    public_url: PublicUrl,
}

impl PublicLinks {
    /// Links under `public_url`.
    pub fn new(public_url: PublicUrl) -> Self {
        Self { public_url }
    }
}

impl AccountLinks for PublicLinks {
    fn email_verification(&self, token: &str) -> String {
        format!(
            "{}/api/v1/user/verify-email/complete/{token}/",
            self.public_url.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verification_link_is_the_completion_route_under_the_public_url() {
        let links = PublicLinks::new(PublicUrl("https://chat.example.org".into()));
        assert_eq!(
            links.email_verification("tok3n"),
            "https://chat.example.org/api/v1/user/verify-email/complete/tok3n/"
        );
    }
}
