use std::os::unix::fs::PermissionsExt;

use super::*;

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let mut bytes = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("whisper-settings-{name}"));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A working directory and a configuration directory, both removed on drop.
struct ConfigDirs {
    work: TempDir,
    config: TempDir,
}

impl ConfigDirs {
    fn new() -> Self {
        Self {
            work: TempDir::new(),
            config: TempDir::new(),
        }
    }

    /// Fresh directories whose configuration file `name` holds `contents`.
    fn with_file(name: &str, contents: &str) -> Self {
        let dirs = Self::new();
        dirs.write(name, contents);
        dirs
    }

    /// Writes `contents` as the configuration file `name`.
    fn write(&self, name: &str, contents: impl AsRef<[u8]>) {
        std::fs::write(self.config.0.join(name), contents).unwrap();
    }

    /// Loads the settings from `vars` and these directories.
    fn load(&self, vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::load_in(&env(vars), Some(&self.config.0), &self.work.0)
    }
}

const STRONG_KEY: &str = "kO3t9Jb1yq0nVv2m8Zp6Lw4Rr7Xs5Hc3Ud1Ef9Gg0Ta2";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let work = TempDir::new();
    Settings::load_in(&env(pairs), None, &work.0)
}

fn production(extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut pairs = vec![
        ("WHISPER_ENV", "production".to_owned()),
        ("WHISPER_SECRET_KEY", STRONG_KEY.to_owned()),
        (
            "WHISPER_MAIL",
            "smtp+starttls://u:p@smtp.example.org".to_owned(),
        ),
    ];
    for (k, v) in extra {
        pairs.retain(|(key, _)| key != k);
        let k: &'static str = Box::leak((*k).to_owned().into_boxed_str());
        pairs.push((k, (*v).to_owned()));
    }
    pairs
}

fn load_owned(pairs: &[(&'static str, String)]) -> Result<Settings, SettingsError> {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    load(&borrowed)
}

#[test]
fn defaults_apply_with_no_environment_at_all() {
    let work = TempDir::new();
    let settings = Settings::load_in(&HashMap::new(), None, &work.0).unwrap();
    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(settings.server.addr, "127.0.0.1:8000".parse().unwrap());
    assert_eq!(
        settings.server.public_url.as_str(),
        "http://127.0.0.1:8000/"
    );
    assert_eq!(settings.server.media_dir, PathBuf::from("var/media"));
    assert!(settings.server.rate_limits);
    assert_eq!(settings.server.trusted_proxies, TrustedProxies::default());
    assert_eq!(settings.server.workers, None, "one per core");
    assert_eq!(settings.server.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(settings.server.body_timeout, Duration::from_secs(10));
    assert_eq!(settings.server.tls(), None);
    assert_eq!(
        settings.database.url.expose(),
        "postgres://postgres@127.0.0.1:5432/whisper"
    );
    assert!(settings.database.pool_size > 0);
    assert!(settings.database.migrate_on_start);
    assert_eq!(
        settings.mail.transport,
        MailTransport::parse("file:var/mail").unwrap()
    );
    assert_eq!(settings.mail.sender, "Whisper <noreply@whisper.localhost>");
    assert!(settings.redis.url.is_none());
    assert!(settings.google.client_id.is_none());
    assert_eq!(
        settings.google.auth_url.as_str(),
        "https://accounts.google.com/o/oauth2/v2/auth"
    );
    assert_eq!(
        settings.lifetimes.access_token,
        Duration::from_secs(15 * 60)
    );
    assert_eq!(
        settings.lifetimes.refresh_token,
        Duration::from_secs(14 * 24 * 3600)
    );
    assert_eq!(
        settings.lifetimes.verification_link,
        Duration::from_secs(10 * 60)
    );
    assert_eq!(settings.log.format, LogFormat::Pretty);
    assert!(matches!(
        settings.secret_key_origin,
        KeyOrigin::DevelopmentFile { created: true, .. }
    ));
}

#[test]
fn environment_variables_override_the_files() {
    let settings = load(&[
        ("DATABASE_URL", "postgres://me:pw@db.internal:6543/chat"),
        ("WHISPER_ADDR", "0.0.0.0:9000"),
        ("WHISPER_PUBLIC_URL", "https://chat.example.org"),
        ("WHISPER_SECRET_KEY", STRONG_KEY),
        ("WHISPER_MAIL", "smtp://127.0.0.1:2525"),
        ("WHISPER_SENDER_EMAIL", "Chat <chat@example.org>"),
        ("WHISPER_MEDIA_DIR", "/srv/media"),
        ("WHISPER_RATE_LIMITS", "off"),
        ("WHISPER_WORKERS", "1"),
        ("WHISPER_SHUTDOWN_TIMEOUT", "3"),
        ("WHISPER_GOOGLE_CLIENT_ID", "id-123"),
        ("WHISPER_GOOGLE_CLIENT_SECRET", "google-secret"),
        ("WHISPER_GOOGLE_TOKEN_URL", "http://127.0.0.1:9999/token"),
        ("WHISPER_LOG", "debug"),
    ])
    .unwrap();
    assert_eq!(
        settings.database.url.expose(),
        "postgres://me:pw@db.internal:6543/chat"
    );
    assert_eq!(settings.server.addr, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(
        settings.server.public_url.host_str(),
        Some("chat.example.org")
    );
    assert_eq!(settings.secret_key_origin, KeyOrigin::Environment);
    assert!(!settings.mail.transport.is_file());
    assert_eq!(settings.mail.sender, "Chat <chat@example.org>");
    assert_eq!(settings.server.media_dir, PathBuf::from("/srv/media"));
    assert!(!settings.server.rate_limits);
    assert_eq!(settings.server.workers, Some(1));
    assert_eq!(settings.server.shutdown_timeout, Duration::from_secs(3));
    assert_eq!(settings.google.client_id.as_deref(), Some("id-123"));
    assert_eq!(
        settings.google.client_secret.as_ref().map(Redacted::expose),
        Some("google-secret")
    );
    assert_eq!(
        settings.google.token_url.as_str(),
        "http://127.0.0.1:9999/token"
    );
    assert_eq!(settings.log.filter, "debug");
}

#[test]
fn the_environment_selects_its_file() {
    let settings = load(&[("WHISPER_ENV", "test")]).unwrap();
    assert_eq!(settings.environment, Environment::Test);
    assert_eq!(settings.log.filter, "warn");
    let settings = load_owned(&production(&[])).unwrap();
    assert_eq!(settings.log.format, LogFormat::Json);
}

#[test]
fn files_in_the_config_dir_override_the_built_in_ones() {
    let dirs = ConfigDirs::with_file(
        "development.toml",
        "[server]\naddr = \"127.0.0.1:7000\"\n[database]\npool_size = 3\n",
    );
    let settings = dirs.load(&[]).unwrap();
    assert_eq!(settings.server.addr.port(), 7000);
    assert_eq!(settings.database.pool_size, 3);
    // Unset keys keep the built-in defaults.
    assert_eq!(
        settings.server.public_url.as_str(),
        "http://127.0.0.1:8000/"
    );

    let settings = dirs.load(&[("WHISPER_ADDR", "127.0.0.1:7001")]).unwrap();
    assert_eq!(settings.server.addr.port(), 7001);
}

#[test]
fn a_config_dir_is_found_from_the_environment_or_the_working_directory() {
    let work = TempDir::new();
    assert_eq!(config_dir(&HashMap::new(), &work.0).unwrap(), None);
    std::fs::create_dir_all(work.0.join("config")).unwrap();
    std::fs::write(work.0.join("config/default.toml"), "").unwrap();
    assert_eq!(
        config_dir(&HashMap::new(), &work.0).unwrap(),
        Some(work.0.join("config"))
    );
    let error = config_dir(
        &env(&[("WHISPER_CONFIG_DIR", "/nonexistent/whisper")]),
        &work.0,
    )
    .unwrap_err();
    assert_eq!(error.setting, "WHISPER_CONFIG_DIR");
}

#[test]
fn a_broken_config_file_is_named() {
    let dirs = ConfigDirs::with_file("default.toml", "[server\naddr = 1");
    let error = dirs.load(&[]).unwrap_err();
    assert!(error.to_string().contains("default.toml"), "{error}");

    dirs.write("default.toml", "[server]\nadress = \"x\"\n");
    let error = dirs.load(&[]).unwrap_err();
    assert!(error.to_string().contains("adress"), "{error}");
}

#[test]
fn invalid_values_name_their_setting() {
    let cases: &[(&str, &str)] = &[
        ("WHISPER_ADDR", "x"),
        ("WHISPER_PUBLIC_URL", "not a url"),
        ("WHISPER_PUBLIC_URL", "ftp://example.org"),
        ("DATABASE_URL", "mysql://localhost/whisper"),
        ("DATABASE_URL", "postgres://localhost"),
        ("WHISPER_MAIL", "pigeon://coop"),
        ("WHISPER_SENDER_EMAIL", "nobody"),
        ("WHISPER_REDIS_URL", "http://localhost"),
        ("WHISPER_RATE_LIMITS", "sometimes"),
        ("WHISPER_TRUSTED_PROXIES", "127.0.0.1, proxy.internal"),
        ("WHISPER_WORKERS", "many"),
        ("WHISPER_WORKERS", "100000"),
        ("WHISPER_SHUTDOWN_TIMEOUT", "soon"),
        ("WHISPER_SHUTDOWN_TIMEOUT", "-1"),
        ("WHISPER_SECRET_KEY", "short"),
        ("WHISPER_ENV", "staging"),
        ("WHISPER_LOG", "=["),
        ("WHISPER_GOOGLE_AUTH_URL", "nope"),
        ("WHISPER_METRICS_ADDR", "9100"),
        ("WHISPER_MAX_SOCKETS_PER_USER", "0"),
        ("WHISPER_MAX_SOCKETS_PER_USER", "many"),
    ];
    for (var, value) in cases {
        let error = load(&[(var, value)]).unwrap_err();
        assert_eq!(error.setting, *var, "{var}={value}: {error}");
        assert!(
            error.to_string().starts_with(&format!("{var}: ")),
            "{error}"
        );
    }
}

#[test]
fn an_invalid_address_is_quoted() {
    let error = load(&[("WHISPER_ADDR", "x")]).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("WHISPER_ADDR: invalid socket address \"x\""),
        "{error}"
    );
}

#[test]
fn metrics_listen_on_their_own_address_unless_off() {
    let default = load(&[]).unwrap();
    assert_eq!(
        default.server.metrics_addr,
        Some("127.0.0.1:9100".parse().unwrap())
    );
    let chosen = load(&[("WHISPER_METRICS_ADDR", "0.0.0.0:9200")]).unwrap();
    assert_eq!(
        chosen.server.metrics_addr,
        Some("0.0.0.0:9200".parse().unwrap())
    );
    for off in ["off", "OFF", " off "] {
        let settings = load(&[("WHISPER_METRICS_ADDR", off)]).unwrap();
        assert_eq!(settings.server.metrics_addr, None, "{off:?}");
    }
    // Many test servers run at once: none of them claims port 9100.
    let test = load(&[("WHISPER_ENV", "test")]).unwrap();
    assert_eq!(test.server.metrics_addr, None);
    let error = load(&[("WHISPER_METRICS_ADDR", "nowhere")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "WHISPER_METRICS_ADDR: invalid socket address \"nowhere\"; expected e.g. 127.0.0.1:9100, or off"
    );
}

#[test]
fn tls_needs_both_files() {
    let work = TempDir::new();
    std::fs::write(work.0.join("cert.pem"), "x").unwrap();
    std::fs::write(work.0.join("key.pem"), "x").unwrap();
    let load = |pairs: &[(&str, &str)]| Settings::load_in(&env(pairs), None, &work.0);

    let error = load(&[("WHISPER_TLS_CERT", "cert.pem")]).unwrap_err();
    assert_eq!(error.setting, "WHISPER_TLS_KEY");
    let error = load(&[("WHISPER_TLS_KEY", "key.pem")]).unwrap_err();
    assert_eq!(error.setting, "WHISPER_TLS_CERT");
    let error = load(&[
        ("WHISPER_TLS_CERT", "missing.pem"),
        ("WHISPER_TLS_KEY", "key.pem"),
    ])
    .unwrap_err();
    assert_eq!(error.setting, "WHISPER_TLS_CERT");

    let settings = load(&[
        ("WHISPER_TLS_CERT", "cert.pem"),
        ("WHISPER_TLS_KEY", "key.pem"),
    ])
    .unwrap();
    assert_eq!(
        settings.server.tls(),
        Some(TlsSettings {
            cert: work.0.join("cert.pem"),
            key: work.0.join("key.pem"),
        })
    );
}

#[test]
fn debug_output_never_shows_secrets() {
    let settings = load(&[
        ("WHISPER_SECRET_KEY", STRONG_KEY),
        (
            "WHISPER_MAIL",
            "smtps://mailer:mail-password@smtp.example.org",
        ),
        (
            "DATABASE_URL",
            "postgres://app:db-password@127.0.0.1/whisper",
        ),
        ("WHISPER_GOOGLE_CLIENT_SECRET", "google-secret"),
    ])
    .unwrap();
    // A Redis password is redacted too, and so is a refused setting beside it.
    let with_redis = load(&[(
        "WHISPER_REDIS_URL",
        "redis://:redis-password@127.0.0.1:6379",
    )])
    .unwrap();
    let refusal = load(&[
        (
            "WHISPER_REDIS_URL",
            "redis://:redis-password@127.0.0.1:6379",
        ),
        ("WHISPER_REDIS_PREFIX", "bad prefix"),
    ])
    .unwrap_err();
    let shown = format!("{settings:?} {with_redis:?} {refusal:?} {refusal}");
    for secret in [
        STRONG_KEY,
        "mail-password",
        "db-password",
        "redis-password",
        "google-secret",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("[redacted]"), "{shown}");
    assert_eq!(settings.secret_key.to_string(), "[redacted]");
    assert_eq!(format!("{:?}", settings.secret_key), "[redacted]");
    assert_eq!(
        settings.database.url.to_string(),
        "postgres://app:***@127.0.0.1/whisper"
    );
}

#[test]
fn production_accepts_a_strong_key_and_smtp() {
    let settings = load_owned(&production(&[])).unwrap();
    assert_eq!(settings.environment, Environment::Production);
    assert_eq!(settings.secret_key_origin, KeyOrigin::Environment);
}

#[test]
fn production_refuses_weak_or_missing_keys() {
    let weak = [
        "".to_owned(),
        "too-short-but-not-empty".to_owned(),
        "a".repeat(64),
        "change-me-to-a-long-random-secret-please-really".to_owned(),
        "CHANGE-ME-to-a-long-random-secret-please-really".to_owned(),
    ];
    for key in weak {
        let error = load_owned(&production(&[("WHISPER_SECRET_KEY", key.as_str())])).unwrap_err();
        assert_eq!(error.setting, "WHISPER_SECRET_KEY", "{key:?}: {error}");
        assert!(
            !error.to_string().contains(&key) || key.is_empty(),
            "{error}"
        );
    }
}

#[test]
fn production_never_generates_a_key() {
    let work = TempDir::new();
    let pairs = production(&[]);
    let mut env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    env.remove("WHISPER_SECRET_KEY");
    let error = Settings::load_in(&env, None, &work.0).unwrap_err();
    assert_eq!(error.setting, "WHISPER_SECRET_KEY");
    assert!(!work.0.join("var/secret_key").exists());
}

#[test]
fn production_refuses_file_mail() {
    let error = load_owned(&production(&[("WHISPER_MAIL", "file:/tmp/mail")])).unwrap_err();
    assert_eq!(error.setting, "WHISPER_MAIL");
    let error = load_owned(&production(&[("WHISPER_MAIL", "")])).unwrap_err();
    assert_eq!(error.setting, "WHISPER_MAIL");
}

#[test]
fn a_development_key_is_generated_once_with_mode_0600_and_reused() {
    let work = TempDir::new();
    let first = Settings::load_in(&HashMap::new(), None, &work.0).unwrap();
    let path = work.0.join("var/secret_key");
    assert_eq!(
        first.secret_key_origin,
        KeyOrigin::DevelopmentFile {
            path: path.clone(),
            created: true
        }
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let stored = std::fs::read_to_string(&path).unwrap();
    assert!(stored.trim().len() >= 64, "{stored}");

    let second = Settings::load_in(&HashMap::new(), None, &work.0).unwrap();
    assert_eq!(
        second.secret_key_origin,
        KeyOrigin::DevelopmentFile {
            path: path.clone(),
            created: false
        }
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), stored);
    // Same key: the derived keys agree.
    assert_eq!(
        first.secret_key.master_key().session_cookie_key(),
        second.secret_key.master_key().session_cookie_key()
    );
}

#[test]
fn a_development_key_from_the_environment_must_still_be_long_enough() {
    let error = load(&[("WHISPER_SECRET_KEY", "short")]).unwrap_err();
    assert_eq!(error.setting, "WHISPER_SECRET_KEY");
    assert!(error.message.contains("32"), "{error}");
}

#[test]
fn empty_variables_count_as_unset() {
    let settings = load(&[("WHISPER_REDIS_URL", ""), ("WHISPER_ADDR", " ")]).unwrap();
    assert!(settings.redis.url.is_none());
    assert_eq!(settings.server.addr.port(), 8000);
}

#[test]
fn a_redis_url_links_instances_under_a_prefix() {
    let settings = load(&[("WHISPER_REDIS_URL", "rediss://cache.example.org:6380")]).unwrap();
    let url = settings
        .redis
        .url
        .as_ref()
        .map(|url| url.expose().to_string());
    assert_eq!(url.as_deref(), Some("rediss://cache.example.org:6380"));
    assert_eq!(settings.redis.prefix, "whisper");
    let settings = load(&[("WHISPER_REDIS_PREFIX", "staging.chat")]).unwrap();
    assert_eq!(settings.redis.prefix, "staging.chat");
    // A URL that is no Redis URL says so, naming the variable.
    let error = load(&[("WHISPER_REDIS_URL", "http://localhost")]).unwrap_err();
    assert_eq!(error.setting, "WHISPER_REDIS_URL");
    assert!(error.message.contains("redis://"), "{error}");
}

#[test]
fn trusted_proxies_are_addresses_and_networks_of_either_family() {
    let settings = load(&[("WHISPER_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,fd00::/8")]).unwrap();
    let trusted = &settings.server.trusted_proxies;
    for proxy in ["127.0.0.1", "10.20.30.40", "fd12::1"] {
        assert!(trusted.contains(proxy.parse().unwrap()), "{proxy}");
    }
    assert!(!trusted.contains("127.0.0.2".parse().unwrap()));
    // check-config prints them (Debug) as networks.
    assert!(
        format!("{settings:?}").contains("trusted_proxies: [127.0.0.1/32, 10.0.0.0/8, fd00::/8]"),
        "{settings:?}"
    );
    let dirs = ConfigDirs::with_file("test.toml", "[server]\ntrusted_proxies = \"::1\"\n");
    let settings = dirs.load(&[("WHISPER_ENV", "test")]).unwrap();
    assert!(
        settings
            .server
            .trusted_proxies
            .contains("::1".parse().unwrap())
    );
    let error = load(&[("WHISPER_TRUSTED_PROXIES", "10.0.0.0/40")]).unwrap_err();
    assert_eq!(error.setting, "WHISPER_TRUSTED_PROXIES");
    assert!(error.message.contains("10.0.0.0/40"), "{error}");
}

#[test]
fn a_redis_prefix_that_would_break_key_names_is_refused() {
    for prefix in ["a:b", "with space", &"x".repeat(65)] {
        let error = load(&[("WHISPER_REDIS_PREFIX", prefix)]).unwrap_err();
        assert_eq!(error.setting, "WHISPER_REDIS_PREFIX", "{prefix}");
    }
    let dirs = ConfigDirs::with_file("development.toml", "[redis]\nprefix = \"a:b\"\n");
    assert_eq!(dirs.load(&[]).unwrap_err().setting, "redis.prefix");
}

#[test]
fn a_value_from_a_file_is_named_by_its_key_and_from_the_environment_by_its_variable() {
    let dirs = ConfigDirs::with_file(
        "development.toml",
        "[server]\nworkers = 5000\naddr = \"nowhere\"\n",
    );
    let error = dirs.load(&[]).unwrap_err();
    assert_eq!(error.setting, "server.addr", "{error}");
    assert!(error.message.contains("\"nowhere\""), "{error}");

    let error = dirs
        .load(&[("WHISPER_ADDR", "127.0.0.1:7000")])
        .unwrap_err();
    assert_eq!(error.setting, "server.workers", "{error}");
    assert!(error.message.contains("5000"), "{error}");

    let error = dirs
        .load(&[
            ("WHISPER_ADDR", "127.0.0.1:7000"),
            ("WHISPER_WORKERS", "4096"),
        ])
        .unwrap_err();
    assert_eq!(error.setting, "WHISPER_WORKERS", "{error}");
}

#[test]
fn a_certificate_from_a_file_without_a_key_names_both_settings() {
    let dirs = ConfigDirs::new();
    std::fs::write(dirs.work.0.join("cert.pem"), "x").unwrap();
    dirs.write("development.toml", "[server]\ntls_cert = \"cert.pem\"\n");
    let error = dirs.load(&[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "WHISPER_TLS_KEY: is required when server.tls_cert is set (set both or neither)"
    );
}

#[test]
fn secrets_are_never_read_from_files() {
    let dirs = ConfigDirs::new();
    for (section, key) in [("secrets", "key"), ("google", "client_secret")] {
        dirs.write(
            "development.toml",
            format!("[{section}]\n{key} = \"{STRONG_KEY}\"\n"),
        );
        let error = dirs.load(&[]).unwrap_err();
        assert_eq!(error.setting, format!("{section}.{key}"));
        assert!(!error.to_string().contains(STRONG_KEY), "{error}");
    }
}

#[test]
fn every_variable_sets_a_key_of_the_tree() {
    for variable in variables::VARIABLES {
        // Whatever the value, an error names a variable, never a section with an unknown key.
        if let Err(error) = load(&[(variable.name, "x")]) {
            assert!(
                variables::VARIABLES
                    .iter()
                    .any(|known| known.name == error.setting),
                "{}: {error}",
                variable.name
            );
        }
    }
}

#[test]
fn every_variable_is_documented_in_default_toml() {
    let documented = include_str!("../../../../config/default.toml");
    for variable in variables::VARIABLES {
        assert!(documented.contains(variable.name), "{}", variable.name);
    }
}

#[test]
fn the_per_user_socket_cap_defaults_to_64_and_is_set_by_its_variable() {
    let defaults = load(&[]).unwrap();
    assert_eq!(defaults.ws_settings().max_sockets_per_user, 64);
    let set = load(&[("WHISPER_MAX_SOCKETS_PER_USER", "5")]).unwrap();
    assert_eq!(set.websocket.max_sockets_per_user, 5);
    assert_eq!(set.ws_settings().max_sockets_per_user, 5);
}

#[test]
fn a_connection_keeps_16_sends_in_flight_unless_configured() {
    assert_eq!(load(&[]).unwrap().ws_settings().max_in_flight, 128);
    let dirs = ConfigDirs::with_file("development.toml", "[websocket]\nmax_in_flight = 0\n");
    let error = dirs.load(&[]).unwrap_err();
    assert_eq!(error.setting, "websocket.max_in_flight", "{error}");
}
