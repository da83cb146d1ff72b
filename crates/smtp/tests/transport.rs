#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use whisper_smtp::{MailTransport, SmtpCredentials, SmtpSecurity, SmtpServer};

fn smtp(raw: &str) -> SmtpServer {
    match MailTransport::parse(raw) {
        Ok(MailTransport::Smtp(server)) => server,
        other => panic!("{raw:?} parsed as {other:?}"),
    }
}

#[test]
fn file_transport_names_a_directory() {
    let transport = MailTransport::parse("file:var/mail").unwrap();
    assert!(transport.is_file());
    assert_eq!(transport.file_dir(), Some(Path::new("var/mail")));
    assert_eq!(
        MailTransport::parse("file:/srv/whisper/mail").unwrap(),
        MailTransport::File {
            dir: PathBuf::from("/srv/whisper/mail")
        }
    );
}

#[test]
fn file_url_spelling_is_accepted() {
    assert_eq!(
        MailTransport::parse("file:///srv/mail").unwrap().file_dir(),
        Some(Path::new("/srv/mail"))
    );
}

#[test]
fn the_default_writes_files_into_var_mail() {
    assert_eq!(
        MailTransport::default(),
        MailTransport::parse(whisper_smtp::DEFAULT_MAIL_TRANSPORT).unwrap()
    );
    assert_eq!(MailTransport::default().to_string(), "file:var/mail");
}

#[test]
fn plain_smtp_without_credentials() {
    let server = smtp("smtp://127.0.0.1:2525");
    assert_eq!(
        server,
        SmtpServer {
            security: SmtpSecurity::Plain,
            host: "127.0.0.1".into(),
            port: 2525,
            credentials: None,
        }
    );
    assert!(!MailTransport::Smtp(server).is_file());
}

#[test]
fn each_scheme_selects_its_security_and_default_port() {
    let cases = [
        ("smtp://mail.example.org", SmtpSecurity::Plain, 25),
        (
            "smtp+starttls://mail.example.org",
            SmtpSecurity::StartTls,
            587,
        ),
        ("smtps://mail.example.org", SmtpSecurity::ImplicitTls, 465),
        ("smtps://mail.example.org/", SmtpSecurity::ImplicitTls, 465),
        ("SMTPS://mail.example.org", SmtpSecurity::ImplicitTls, 465),
    ];
    for (raw, security, port) in cases {
        let server = smtp(raw);
        assert_eq!(server.security, security, "{raw}");
        assert_eq!(server.port, port, "{raw}");
        assert_eq!(server.host, "mail.example.org", "{raw}");
    }
}

#[test]
fn an_explicit_port_overrides_the_default() {
    assert_eq!(smtp("smtp+starttls://mail.example.org:2587").port, 2587);
    assert_eq!(smtp("smtps://mail.example.org:10465").port, 10465);
}

#[test]
fn credentials_are_percent_decoded() {
    let server = smtp("smtp+starttls://ada%40example.org:p%40ss%3Aw%2Frd%25@mail.example.org");
    assert_eq!(
        server.credentials,
        Some(SmtpCredentials::new("ada@example.org", "p@ss:w/rd%"))
    );
    assert_eq!(server.port, 587);
}

#[test]
fn ipv6_hosts_lose_their_brackets() {
    let server = smtp("smtp://[::1]:2525");
    assert_eq!(server.host, "::1");
    assert_eq!(MailTransport::Smtp(server).to_string(), "smtp://[::1]:2525");
}

#[test]
fn surrounding_whitespace_is_ignored() {
    assert_eq!(smtp("  smtp://localhost:25\n").host, "localhost");
}

#[test]
fn debug_and_display_never_show_the_password() {
    let transport = MailTransport::parse("smtps://mailer:hunter2secret@mail.example.org").unwrap();
    let debug = format!("{transport:?}");
    let display = transport.to_string();
    assert!(!debug.contains("hunter2secret"), "{debug}");
    assert!(!display.contains("hunter2secret"), "{display}");
    assert!(debug.contains("mailer"), "{debug}");
    assert_eq!(display, "smtps://mailer:***@mail.example.org:465");
}

#[test]
fn the_password_stays_available_to_the_mailer() {
    let server = smtp("smtps://mailer:hunter2secret@mail.example.org");
    let credentials = server.credentials.unwrap();
    assert_eq!(credentials.user(), "mailer");
    assert_eq!(credentials.password(), "hunter2secret");
}

#[test]
fn bad_settings_are_refused_with_a_reason() {
    let cases = [
        ("", "empty"),
        ("   ", "empty"),
        ("file:", "directory"),
        ("mail.example.org", "not a mail transport"),
        (
            "http://mail.example.org",
            "unknown mail transport scheme `http`",
        ),
        ("smtp://", "no host"),
        ("smtp://mail.example.org:99999", "not a valid SMTP URL"),
        ("smtp://mail.example.org:0", "port 0"),
        ("smtp://mail.example.org:25/inbox", "path"),
        ("smtp://mail.example.org?tls=required", "smtp+starttls://"),
        ("smtp://mail.example.org#x", "fragment"),
        ("smtp://ada@mail.example.org", "no password"),
        ("smtp://:secret@mail.example.org", "no user"),
        ("smtp://ada:%FF%FE@mail.example.org", "UTF-8"),
    ];
    for (raw, expected) in cases {
        let error = MailTransport::parse(raw).expect_err(raw);
        assert!(
            error.contains(expected),
            "{raw:?} gave {error:?}, expected it to mention {expected:?}"
        );
    }
}

#[test]
fn errors_never_show_the_password() {
    for raw in [
        "smtp://ada:topsecret@mail.example.org:25/inbox",
        "smtp://ada:top/secret@mail.example.org",
        "smtp://ada:top#secret@mail.example.org",
        "smtp://ada:topsecret@mail.example.org?tls=required",
        "smtq://ada:topsecret@mail.example.org",
        "smtp:ada:topsecret@mail.example.org",
    ] {
        let error = MailTransport::parse(raw).expect_err(raw);
        assert!(!error.contains("secret"), "{raw:?} gave {error:?}");
    }
}

#[test]
fn it_deserializes_from_a_string_setting() {
    #[derive(serde::Deserialize)]
    struct Settings {
        mail: MailTransport,
    }
    let settings: Settings = serde_json::from_str(r#"{"mail": "smtp://127.0.0.1:2525"}"#).unwrap();
    assert_eq!(
        settings.mail,
        MailTransport::parse("smtp://127.0.0.1:2525").unwrap()
    );
    let refused = serde_json::from_str::<Settings>(r#"{"mail": "smtp://"}"#);
    assert!(refused.err().unwrap().to_string().contains("no host"));
}

#[test]
fn from_str_is_the_same_parser() {
    let parsed: MailTransport = "smtps://mail.example.org".parse().unwrap();
    assert_eq!(
        parsed,
        MailTransport::parse("smtps://mail.example.org").unwrap()
    );
}
