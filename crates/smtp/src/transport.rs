//! Where outgoing mail goes: the `WHISPER_MAIL` setting, parsed once into a typed value.
//!
//! | setting | meaning | default port |
//! |---|---|---|
//! | `file:<dir>` | write each email as an `.eml` file into `<dir>` (development) | |
//! | `smtp://[user:pass@]host[:port]` | plain SMTP, no TLS (a local relay or a test sink) | 25 |
//! | `smtp+starttls://[user:pass@]host[:port]` | SMTP upgraded with STARTTLS, which is required | 587 |
//! | `smtps://[user:pass@]host[:port]` | SMTP over implicit TLS | 465 |
//!
//! Credentials are percent-decoded (`p%40ss` is `p@ss`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use percent_encoding::percent_decode_str;
use url::{Host, Url};

/// The transport used when `WHISPER_MAIL` is not set.
pub const DEFAULT_MAIL_TRANSPORT: &str = "file:var/mail";

const EXPECTED: &str = "expected file:<dir>, smtp://[user:pass@]host[:port], \
                        smtp+starttls://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]";

/// Where outgoing mail goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum MailTransport {
    /// Each email is written as an `.eml` file into this directory (created when missing).
    File {
        /// The directory receiving the files.
        dir: PathBuf,
    },
    /// Emails are handed to an SMTP server.
    Smtp(SmtpServer),
}

/// An SMTP server to relay mail through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Login, when the server requires one.
    pub credentials: Option<SmtpCredentials>,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmtpSecurity {
    /// No TLS at all (`smtp://`).
    Plain,
    /// A plain connection that must be upgraded with STARTTLS before anything is sent
    /// (`smtp+starttls://`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    ImplicitTls,
}

impl SmtpSecurity {
    /// The URL scheme naming this security.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Plain => "smtp",
            Self::StartTls => "smtp+starttls",
            Self::ImplicitTls => "smtps",
        }
    }

    /// The port used when the setting names none.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Plain => 25,
            Self::StartTls => 587,
            Self::ImplicitTls => 465,
        }
    }

    fn from_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "smtp" => Some(Self::Plain),
            "smtp+starttls" => Some(Self::StartTls),
            "smtps" => Some(Self::ImplicitTls),
            _ => None,
        }
    }
}

/// A login for the SMTP server. Its `Debug` output never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    user: String,
    password: String,
}

impl SmtpCredentials {
    /// A login of `user` with `password` (both already decoded).
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password; keep it out of logs.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl MailTransport {
    /// Parses a `WHISPER_MAIL` value; the error says what is wrong and what is expected.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(format!("the mail transport is empty; {EXPECTED}"));
        }
        if let Some(rest) = strip_prefix_ignore_case(raw, "file:") {
            return parse_file(rest);
        }
        let Some((scheme, _)) = raw.split_once("://") else {
            return Err(format!(
                "`{}` is not a mail transport; {EXPECTED}",
                redact_userinfo(raw)
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        let Some(security) = SmtpSecurity::from_scheme(&scheme) else {
            return Err(format!(
                "unknown mail transport scheme `{scheme}`; {EXPECTED}"
            ));
        };
        parse_smtp(raw, security).map(Self::Smtp)
    }

    /// Whether mail is written to files instead of being sent (development).
    pub fn is_file(&self) -> bool {
        matches!(self, Self::File { .. })
    }

    /// The directory receiving `.eml` files, for the file transport.
    pub fn file_dir(&self) -> Option<&Path> {
        match self {
            Self::File { dir } => Some(dir),
            Self::Smtp(_) => None,
        }
    }
}

impl Default for MailTransport {
    fn default() -> Self {
        Self::File {
            dir: PathBuf::from("var/mail"),
        }
    }
}

impl FromStr for MailTransport {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for MailTransport {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

/// The setting as it would be written, with the password replaced by `***`: safe to log.
impl fmt::Display for MailTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { dir } => write!(f, "file:{}", dir.display()),
            Self::Smtp(server) => fmt::Display::fmt(server, f),
        }
    }
}

/// The server as a URL with the password replaced by `***`: safe to log.
impl fmt::Display for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.security.scheme())?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{}:***@", credentials.user)?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

fn strip_prefix_ignore_case<'a>(raw: &'a str, prefix: &str) -> Option<&'a str> {
    let head = raw.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| raw.get(prefix.len()..))
        .flatten()
}

fn parse_file(rest: &str) -> Result<MailTransport, String> {
    // `file:///srv/mail` is accepted as the URL spelling of `file:/srv/mail`.
    let dir = rest.strip_prefix("//").unwrap_or(rest);
    if dir.trim().is_empty() {
        return Err(format!(
            "the file mail transport needs a directory, e.g. `{DEFAULT_MAIL_TRANSPORT}`"
        ));
    }
    Ok(MailTransport::File {
        dir: PathBuf::from(dir),
    })
}

fn parse_smtp(raw: &str, security: SmtpSecurity) -> Result<SmtpServer, String> {
    let shown = redact_userinfo(raw);
    let url = Url::parse(raw).map_err(|error| {
        format!(
            "`{shown}` is not a valid SMTP URL ({error}); percent-encode special characters \
             in the user and password (`@` as %40, `:` as %3A, `/` as %2F)"
        )
    })?;
    if let Some(query) = url.query() {
        let hint = if query.contains("tls=") {
            "; use smtp+starttls:// for STARTTLS and smtps:// for implicit TLS instead of ?tls="
        } else {
            ""
        };
        return Err(format!(
            "`{shown}` has a query string, which is not supported{hint}"
        ));
    }
    if url.fragment().is_some() {
        return Err(format!(
            "`{shown}` has a `#` fragment; percent-encode `#` in a password as %23"
        ));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(format!(
            "`{shown}` has a path ({}), which is not supported; percent-encode `/` in a password as %2F",
            url.path()
        ));
    }
    let host = match url.host() {
        Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
        Some(Host::Ipv4(address)) => address.to_string(),
        Some(Host::Ipv6(address)) => address.to_string(),
        _ => return Err(format!("`{shown}` names no host")),
    };
    let port = match url.port() {
        Some(0) => return Err(format!("`{shown}`: port 0 is not a valid SMTP port")),
        Some(port) => port,
        None => security.default_port(),
    };
    let credentials = match (url.username(), url.password()) {
        ("", None) => None,
        ("", Some(_)) => return Err(format!("`{shown}` has a password but no user")),
        (_, None) => {
            return Err(format!(
                "`{shown}` has a user but no password; write smtp://user:password@host"
            ));
        }
        (user, Some(password)) => Some(SmtpCredentials::new(
            decode(user, "user", &shown)?,
            decode(password, "password", &shown)?,
        )),
    };
    Ok(SmtpServer {
        security,
        host,
        port,
        credentials,
    })
}

fn decode(encoded: &str, what: &str, shown: &str) -> Result<String, String> {
    percent_decode_str(encoded)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| format!("`{shown}`: the {what} is not UTF-8 once percent-decoded"))
}

/// The raw setting with anything between `://` and the last `@` replaced, so an error
/// message never shows a password (even one with unencoded `/`, `?` or `#` in it).
fn redact_userinfo(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return match raw.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => raw.to_owned(),
        };
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}")
        }
        None => raw.to_owned(),
    }
}
