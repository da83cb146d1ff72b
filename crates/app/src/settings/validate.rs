//! The rules between values that each parsed well: ranges, settings that need each
//! other, what production refuses, what this version cannot do yet.

use std::time::Duration;

use super::variables::Names;
use super::{Environment, SettingsError, Tree, secret};

/// The most threads serving connections.
const MAX_WORKERS: usize = 1024;
/// The most connections the pools may open in all.
const MAX_POOL_SIZE: usize = 10_000;

/// Refuses a tree that cannot work in `environment`, naming the setting at fault.
pub fn validate(
    tree: &Tree,
    environment: Environment,
    names: &Names<'_>,
) -> Result<(), SettingsError> {
    if let Some(workers) = tree.server.workers
        && workers > MAX_WORKERS
    {
        return Err(names.error(
            "server.workers",
            format!("expected 0 (one per core) to {MAX_WORKERS}, got {workers}"),
        ));
    }
    match (&tree.server.tls_cert, &tree.server.tls_key) {
        (None, None) => {}
        (Some(cert), Some(key)) => {
            for (setting, path) in [("server.tls_cert", cert), ("server.tls_key", key)] {
                if !path.is_file() {
                    return Err(names.error(setting, format!("no such file {}", path.display())));
                }
            }
        }
        (Some(_), None) => return Err(both_or_neither(names, "server.tls_key", "server.tls_cert")),
        (None, Some(_)) => return Err(both_or_neither(names, "server.tls_cert", "server.tls_key")),
    }
    if !(1..=MAX_POOL_SIZE).contains(&tree.database.pool_size) {
        return Err(names.error(
            "database.pool_size",
            format!("must be between 1 and {MAX_POOL_SIZE}"),
        ));
    }
    if !valid_redis_prefix(&tree.redis.prefix) {
        return Err(names.error(
            "redis.prefix",
            "must be 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    if tree.websocket.queue_capacity < 2 {
        return Err(names.error("websocket.queue_capacity", "must be at least 2"));
    }
    if tree.websocket.max_in_flight == 0 {
        return Err(names.error("websocket.max_in_flight", "must be at least 1"));
    }
    if tree.websocket.max_sockets_per_user == 0 {
        return Err(names.error("websocket.max_sockets_per_user", "must be at least 1"));
    }
    if tree.websocket.media_max_bytes == 0 {
        return Err(names.error("websocket.media_max_bytes", "must be at least 1"));
    }
    let lifetimes = [
        ("google.timeout_secs", tree.google.timeout),
        ("server.body_timeout_secs", tree.server.body_timeout),
        ("websocket.ping_interval_secs", tree.websocket.ping_interval),
        (
            "websocket.revocation_check_secs",
            tree.websocket.revocation_check,
        ),
        ("lifetimes.access_token_secs", tree.lifetimes.access_token),
        ("lifetimes.refresh_token_secs", tree.lifetimes.refresh_token),
        (
            "lifetimes.verification_link_secs",
            tree.lifetimes.verification_link,
        ),
    ];
    for (setting, lifetime) in lifetimes {
        if lifetime < Duration::from_secs(1) {
            return Err(names.error(setting, "must be at least 1 second"));
        }
    }
    if environment == Environment::Production {
        if tree.mail.transport.is_file() {
            return Err(names.error(
                "mail.transport",
                "writes mail into files, which nobody receives in production; set an smtp://, smtp+starttls:// or smtps:// server",
            ));
        }
        match &tree.secrets.key {
            Some(key) => secret::refuse_weak(key.expose())?,
            None => return Err(secret::missing_in_production()),
        }
    }
    Ok(())
}

/// `missing` is unset while `present` is set.
fn both_or_neither(names: &Names<'_>, missing: &str, present: &str) -> SettingsError {
    names.error(
        missing,
        format!(
            "is required when {} is set (set both or neither)",
            names.of(present)
        ),
    )
}

/// A prefix that keeps keys and channels readable and cannot break their `:` structure.
fn valid_redis_prefix(prefix: &str) -> bool {
    (1..=64).contains(&prefix.len())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
