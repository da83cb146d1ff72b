//! The URL settings as an operator (or a leaked environment) writes them: never a panic; an
//! accepted URL is of the scheme the setting needs; a password never shows when the URL is
//! displayed; an SMTP server without login reads back from its own display.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::value::{Error, StrDeserializer};
use url::Url;
use whisper_app::settings::RedactedUrl;
use whisper_app::settings::parse::{http_url, mail_transport, postgres_url, redis_url};
use whisper_smtp::MailTransport;

fn text(raw: &str) -> StrDeserializer<'_, Error> {
    StrDeserializer::new(raw)
}

/// The displayed URL carries `***` wherever the URL had a password.
fn assert_redacted(url: &RedactedUrl) {
    if url.url().password().is_none() {
        return;
    }
    let shown = url.to_string();
    let reread = Url::parse(&shown).unwrap_or_else(|error| panic!("{shown:?}: {error}"));
    assert_eq!(
        reread.password(),
        Some("***"),
        "password shown in {shown:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(url) = http_url(text(raw)) {
        assert!(matches!(url.scheme(), "http" | "https"), "{url}");
        assert!(url.host_str().is_some(), "{url}");
    }
    if let Ok(url) = postgres_url(text(raw)) {
        assert!(matches!(url.url().scheme(), "postgres" | "postgresql"));
        assert!(!url.url().path().trim_start_matches('/').is_empty());
        assert_redacted(&url);
    }
    match redis_url(text(raw)) {
        Ok(Some(url)) => {
            assert!(matches!(url.url().scheme(), "redis" | "rediss"));
            assert_redacted(&url);
        }
        Ok(None) => assert!(raw.trim().is_empty()),
        Err(_) => {}
    }
    if let Ok(MailTransport::Smtp(server)) = mail_transport(text(raw)) {
        assert_ne!(server.port, 0);
        assert!(!server.host.is_empty());
        if server.credentials.is_some() {
            assert!(server.to_string().contains(":***@"), "{server}");
        } else {
            let shown = server.to_string();
            assert_eq!(
                MailTransport::parse(&shown),
                Ok(MailTransport::Smtp(server)),
                "{shown:?} reads back differently"
            );
        }
    }
});
