//! Property tests of the URL settings (`DATABASE_URL`, `WHISPER_PUBLIC_URL`, `REDIS_URL`,
//! `WHISPER_MAIL`) as an operator might write them: the short, CI-sized runs of
//! `fuzz/fuzz_targets/config_urls.rs` (`PROPTEST_CASES` sets how many; 256 by default).
//! URLs are near-valid: known and unknown schemes, odd user info, unicode hosts, IPv6,
//! ports out of range, paths, queries and fragments, stray spaces.

#![allow(clippy::unwrap_used)] // test helpers fail loudly

use proptest::prelude::*;
use serde::de::value::{Error, StrDeserializer};
use url::Url;
use whisper_app::settings::RedactedUrl;
use whisper_app::settings::parse::{http_url, mail_transport, postgres_url, redis_url};
use whisper_smtp::MailTransport;

fn text(raw: &str) -> StrDeserializer<'_, Error> {
    StrDeserializer::new(raw)
}

fn url_text() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just("http"),
        Just("https"),
        Just("postgres"),
        Just("postgresql"),
        Just("redis"),
        Just("rediss"),
        Just("smtp"),
        Just("smtps"),
        Just("smtp+starttls"),
        Just("SMTP"),
        Just("file"),
        Just("ftp"),
        Just(""),
    ];
    let userinfo = prop_oneof![
        Just(String::new()),
        "[a-z]{1,6}@",
        "[a-z]{0,6}:[a-z0-9]{0,6}@",
        "[a-z%@:/?#]{0,6}:[a-z0-9%@:/?#é ]{0,8}@",
        "\\PC{0,6}:\\PC{0,6}@",
    ];
    let host = prop_oneof![
        Just("localhost".to_owned()),
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        Just("[fe80::1%25eth0]".to_owned()),
        Just(String::new()),
        "[a-zA-Z0-9.-]{1,20}",
        "\\PC{1,8}",
        Just("xn--nxasmq6b".to_owned()),
        Just("256.256.256.256".to_owned()),
    ];
    let port = prop_oneof![
        Just(String::new()),
        (0_u32..70_000).prop_map(|port| format!(":{port}")),
        Just(":".to_owned()),
        Just(":-1".to_owned()),
    ];
    let tail = prop_oneof![
        Just(String::new()),
        Just("/".to_owned()),
        "/[a-z_]{1,10}",
        "/[a-z]{0,5}\\?[a-z=&]{0,10}",
        "#[a-z]{0,5}",
        "/\\PC{0,6}",
    ];
    (
        scheme,
        prop_oneof![Just("://"), Just(":"), Just(":///")],
        userinfo,
        host,
        port,
        tail,
        any::<bool>(),
    )
        .prop_map(|(scheme, separator, userinfo, host, port, tail, padded)| {
            let url = format!("{scheme}{separator}{userinfo}{host}{port}{tail}");
            if padded { format!("  {url}\t") } else { url }
        })
}

/// The displayed URL carries `***` wherever the URL had a password.
fn assert_redacted(url: &RedactedUrl) {
    if url.url().password().is_some() {
        let shown = url.to_string();
        let reread = Url::parse(&shown).unwrap();
        assert_eq!(
            reread.password(),
            Some("***"),
            "password shown in {shown:?}"
        );
    }
}

proptest! {
    #[test]
    fn url_settings_accept_only_their_scheme_and_never_show_a_password(
        raw in prop_oneof![4 => url_text(), 1 => ".{0,60}"],
    ) {
        if let Ok(url) = http_url(text(&raw)) {
            prop_assert!(matches!(url.scheme(), "http" | "https"), "{}", url);
            prop_assert!(url.host_str().is_some(), "{}", url);
        }
        if let Ok(url) = postgres_url(text(&raw)) {
            prop_assert!(matches!(url.url().scheme(), "postgres" | "postgresql"));
            prop_assert!(!url.url().path().trim_start_matches('/').is_empty());
            assert_redacted(&url);
        }
        match redis_url(text(&raw)) {
            Ok(Some(url)) => {
                prop_assert!(matches!(url.url().scheme(), "redis" | "rediss"));
                assert_redacted(&url);
            }
            Ok(None) => prop_assert!(raw.trim().is_empty()),
            Err(_) => {}
        }
    }

    #[test]
    fn an_smtp_server_without_login_reads_back_from_its_display(raw in url_text()) {
        if let Ok(MailTransport::Smtp(server)) = mail_transport(text(&raw)) {
            prop_assert_ne!(server.port, 0);
            prop_assert!(!server.host.is_empty());
            let shown = server.to_string();
            if server.credentials.is_some() {
                prop_assert!(shown.contains(":***@"), "{}", shown);
            } else {
                prop_assert_eq!(MailTransport::parse(&shown), Ok(MailTransport::Smtp(server)), "{}", shown);
            }
        }
    }
}
