//! Emails rendered from the templates in `templates/email/`, each with a subject, a plain
//! text part and an HTML part. The templates are compiled into the binary, so it runs from
//! any directory.

use tera::{Context, Tera};

use whisper_domain::OutgoingEmail;

/// The templates, by name: `<kind>.txt` and `<kind>.html` for each kind of email.
const TEMPLATES: [(&str, &str); 2] = [
    (
        "verify_email.txt",
        include_str!("../../../templates/email/verify_email.txt.tera"),
    ),
    (
        "verify_email.html",
        include_str!("../../../templates/email/verify_email.html.tera"),
    ),
];

/// An email ready to be put into a MIME message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The subject line.
    pub subject: String,
    /// The plain text part.
    pub text: String,
    /// The HTML part, with every inserted value escaped.
    pub html: String,
}

/// A template failed to compile or render; the message carries tera's whole error chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("email template error: {0}")]
pub struct RenderError(String);

impl From<tera::Error> for RenderError {
    fn from(error: tera::Error) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self(message)
    }
}

/// Turns the business's emails into subject, text and HTML.
#[derive(Debug, Clone)]
pub struct EmailRenderer {
    tera: Tera,
}

impl EmailRenderer {
    /// Compiles the embedded templates; HTML templates escape every inserted value.
    pub fn new() -> Result<Self, RenderError> {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES)?;
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(escape_html);
        Ok(Self { tera })
    }

    /// Renders `email` with the templates of its kind.
    pub fn render(&self, email: &OutgoingEmail) -> Result<RenderedEmail, RenderError> {
        match email {
            OutgoingEmail::VerifyEmail {
                username,
                link,
                expires_in_minutes,
                ..
            } => self.render_verify_email(&username.to_string(), link, *expires_in_minutes),
        }
    }

    /// The email asking `username` to confirm their address by following `link`, which
    /// works for `expires_in_minutes`. Takes plain strings so any value can be rendered
    /// (and its escaping checked), not only valid usernames.
    pub fn render_verify_email(
        &self,
        username: &str,
        link: &str,
        expires_in_minutes: u32,
    ) -> Result<RenderedEmail, RenderError> {
        let subject = "Verify your email for Whisper".to_owned();
        let mut context = Context::new();
        context.insert("subject", &subject);
        context.insert("username", username);
        context.insert("link", link);
        context.insert("expires_in_minutes", &expires_in_minutes);
        context.insert("expires_in", &describe_minutes(expires_in_minutes));
        self.render_parts("verify_email", subject, &context)
    }

    fn render_parts(
        &self,
        kind: &str,
        subject: String,
        context: &Context,
    ) -> Result<RenderedEmail, RenderError> {
        Ok(RenderedEmail {
            subject,
            text: self.tera.render(&format!("{kind}.txt"), context)?,
            html: self.tera.render(&format!("{kind}.html"), context)?,
        })
    }
}

/// "1 minute", "10 minutes", "1 hour", "2 hours", "90 minutes".
fn describe_minutes(minutes: u32) -> String {
    let plural = |n: u32, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if minutes >= 60 && minutes.is_multiple_of(60) {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

/// Escapes what could break out of HTML text or a quoted attribute; unlike tera's default
/// it leaves `/` alone, so links stay readable in the HTML source.
fn escape_html(input: &str) -> String {
    let mut output = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '&' => output.push_str("&amp;"),
            '<' => output.push_str("&lt;"),
            '>' => output.push_str("&gt;"),
            '"' => output.push_str("&quot;"),
            '\'' => output.push_str("&#x27;"),
            _ => output.push(c),
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(describe_minutes(1), "1 minute");
        assert_eq!(describe_minutes(10), "10 minutes");
        assert_eq!(describe_minutes(60), "1 hour");
        assert_eq!(describe_minutes(120), "2 hours");
        assert_eq!(describe_minutes(90), "90 minutes");
    }
}
