//! Wiring in steps that `main` and the tests share: the databases, the services, the
//! HTTP(S) listener with the REST routes and the WebSocket endpoint, the mail worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use async_trait::async_trait;
use whisper_crypto::SignedCursors;
use whisper_domain::ports::Clock;
use whisper_domain::{DomainError, Service, SystemClock};
use whisper_http::PublicUrl;
use whisper_http::body_deadline::{BodyDeadline, bound_body};
use whisper_http::limits::{RateLimitSettings, RateLimits};
use whisper_local::LocalEventBus;
use whisper_postgres::{Database, PgMailOutbox, PgMessages, Plans};
use whisper_rest::chat::history::Cursors;
use whisper_rest::session::session_middleware;
use whisper_rest::{Readiness, ReadinessProbe};
use whisper_ws::Hub;

use crate::drain;
use crate::metrics::{MetricsListener, Sampled};
use crate::schema;
use crate::services::Services;
use crate::settings::Settings;
use crate::tls;
use crate::workers::MailWorker;
use whisper_http::request_log::log_request;
use whisper_http::request_metrics::record_request;

/// A built server, bound to its port, not yet serving.
pub struct Application {
    port: u16,
    https: bool,
    server: Server,
    database: Database,
    mail_worker: MailWorker,
    events: Option<LocalEventBus>,
    hub: Arc<Hub>,
    shutdown_timeout: Duration,
    /// `GET /metrics`, when `server.metrics_addr` is set; stops when dropped, with the
    /// rest of the application once the server has stopped.
    metrics: Option<MetricsListener>,
}

/// How long, after the server stopped, presence and the mail worker may take to finish.
pub const AFTER_STOP_WAIT: Duration = Duration::from_secs(2);

/// Connections the kernel holds before the server accepts them. A burst of connects (every
/// client of a restarted server at once) beyond it waits a second for a SYN retry; the
/// standard library's listener queues only 128.
const ACCEPT_BACKLOG: u32 = 4096;

/// How long a client may take, from connecting, to send a request's head; then it gets a
/// 408 and is closed (actix-web's default, stated here). Its body is bounded by
/// `server.body_timeout_secs` (see `whisper_http::body_deadline`).
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection being closed may take to shut down before it is dropped.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long an idle keep-alive connection stays open between requests.
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// The two connection pools and whether the schema is in place.
pub struct Databases {
    /// Everything but the message statements.
    pub main: Database,
    /// The message statements, planned once per connection.
    pub messages: Database,
    /// Set once the schema is in place (at once unless `database.migrate_on_start`).
    schema_ready: Arc<AtomicBool>,
}

impl Databases {
    /// Builds the lazy connection pools. When `database.migrate_on_start`, a background task
    /// creates and migrates the database, retrying until PostgreSQL answers; until then
    /// the server is live but not ready. Then (or at once) it opens the message pool's
    /// connections and prepares the message insert on each. Must be called inside a Tokio runtime.
    pub fn connect(settings: &Settings) -> anyhow::Result<Self> {
        let url = settings.database.url.expose();
        // `pool_size` connections in all: half run the message statements, planned once
        // per connection, the other half everything else.
        let message_connections = (settings.database.pool_size / 2).max(1);
        let other_connections = (settings.database.pool_size - message_connections).max(1);
        let database =
            Database::connect(url, other_connections, Plans::Adaptive).context("DATABASE_URL")?;
        let message_database =
            Database::connect(url, message_connections, Plans::Generic).context("DATABASE_URL")?;
        let schema_ready = Arc::new(AtomicBool::new(!settings.database.migrate_on_start));
        let migrate = settings
            .database
            .migrate_on_start
            .then(|| (settings.database.url.clone(), schema_ready.clone()));
        let messages = PgMessages::new(message_database.clone());
        tokio::spawn(async move {
            if let Some((url, done)) = migrate {
                schema::prepare_until_done(url, done).await;
            }
            let prepared = messages.warm(message_connections).await;
            tracing::debug!(prepared, "message connections opened and prepared");
        });
        Ok(Self {
            main: database,
            messages: message_database,
            schema_ready,
        })
    }
}

impl Application {
    /// Connects the databases, builds the services on the system clock, binds the listener
    /// (port 0 picks a free one) and starts the mail worker. Must be called inside a Tokio
    /// runtime.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Arc::new(SystemClock)).await
    }

    /// Like [`Application::build`], with every domain service reading the time from `clock`,
    /// so tests can drive expiry through the [`Clock`] port.
    pub async fn build_with(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let databases = Databases::connect(settings)?;
        crate::services::sweep_abandoned_media(settings);
        let public_url = PublicUrl::new(settings.server.public_url.as_str());
        let services = Services::build(settings, &databases, &public_url, clock.clone())?;
        let rate_limits = RateLimits::new(
            RateLimitSettings {
                enabled: settings.server.rate_limits,
                ..RateLimitSettings::default()
            },
            clock,
        );
        let rate_limits = match &services.quotas {
            Some(quotas) => rate_limits.shared(quotas.clone()),
            None => rate_limits,
        };
        let mail_delivery = services.mail_delivery.clone();
        let mail_queued = services.mail_queued.clone();
        let events = services.fanout.local().cloned();
        let hub = services.sockets.hub.clone();
        let sampled = Sampled {
            main: databases.main.clone(),
            messages: databases.messages.clone(),
            outbox: PgMailOutbox::new(databases.main.clone()),
            redis: services.fanout.link(),
        };
        if settings.server.metrics_addr.is_some() {
            // Before the server accepts anything, so its first requests are counted too.
            crate::metrics::install_recorder()?;
        }
        let (server, port) = Self::bind(settings, &databases, services, public_url, rate_limits)?;
        let metrics = match settings.server.metrics_addr {
            Some(addr) => Some(MetricsListener::start(addr, sampled)?),
            None => None,
        };
        let mail_worker = MailWorker::start(mail_delivery, mail_queued);
        Ok(Self {
            port,
            https: settings.server.tls().is_some(),
            server,
            database: databases.main,
            mail_worker,
            events,
            hub,
            shutdown_timeout: settings.server.shutdown_timeout,
            metrics,
        })
    }

    /// The HTTP(S) server of the REST routes and the WebSocket endpoint, bound to
    /// `server.addr`, not yet awaited; with the port actually bound.
    fn bind(
        settings: &Settings,
        databases: &Databases,
        services: Services,
        public_url: PublicUrl,
        rate_limits: RateLimits,
    ) -> anyhow::Result<(Server, u16)> {
        let accounts = web::Data::new(services.accounts);
        let social = web::Data::new(services.social);
        let rooms = web::Data::new(services.rooms);
        let cursors = web::Data::new(Cursors(Arc::new(SignedCursors::new(
            settings.secret_key.master_key(),
        ))));
        let public_url = web::Data::new(public_url);
        let sockets = web::Data::new(services.sockets);
        let rate_limits = web::Data::new(rate_limits);
        let trusted_proxies = web::Data::new(settings.server.trusted_proxies.clone());
        let body_deadline = web::Data::new(BodyDeadline(settings.server.body_timeout));
        let session_key = settings.secret_key.master_key().session_cookie_key();
        let secure_cookies = settings.server.public_url.scheme() == "https";
        let session_days =
            i64::try_from(settings.lifetimes.refresh_token.as_secs().div_ceil(86_400))
                .unwrap_or(14);
        let mut probes: Vec<Arc<dyn ReadinessProbe>> = vec![Arc::new(DatabaseProbe {
            database: databases.main.clone(),
            schema_ready: databases.schema_ready.clone(),
        })];
        probes.extend(services.fanout.probe());
        let readiness = web::Data::new(Readiness::new(probes));

        let server = HttpServer::new(move || {
            let readiness = readiness.clone();
            App::new()
                .app_data(accounts.clone())
                .app_data(rate_limits.clone())
                .app_data(trusted_proxies.clone())
                .app_data(social.clone())
                .app_data(rooms.clone())
                .app_data(cursors.clone())
                .app_data(public_url.clone())
                .app_data(sockets.clone())
                .app_data(body_deadline.clone())
                .wrap(session_middleware(
                    &session_key,
                    secure_cookies,
                    session_days,
                ))
                .wrap(whisper_http::fallback::json_errors())
                .wrap(actix_web::middleware::from_fn(log_request))
                .wrap(actix_web::middleware::from_fn(record_request))
                .wrap(actix_web::middleware::from_fn(bound_body))
                .configure(whisper_ws::configure)
                .configure(move |cfg| whisper_rest::configure(cfg, readiness))
        })
        .on_connect(disable_nagle)
        // Signals are ours (see `drain`): sockets must be told to leave, not just dropped.
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout.as_secs())
        .backlog(ACCEPT_BACKLOG)
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .keep_alive(KEEP_ALIVE);
        let server = match settings.server.workers {
            Some(workers) => server.workers(workers),
            None => server,
        };
        let addr = settings.server.addr;
        let cannot_listen = || format!("WHISPER_ADDR: cannot listen on {addr}");
        let server = match settings.server.tls() {
            Some(paths) => server
                .bind_rustls_0_23(addr, tls::server_config(&paths)?)
                .with_context(cannot_listen)?,
            None => server.bind(addr).with_context(cannot_listen)?,
        };
        // Port 0 asks for a free port: the one actually bound.
        let port = server
            .addrs()
            .first()
            .map(|bound| bound.port())
            .with_context(cannot_listen)?;
        Ok((server.run(), port))
    }

    /// The port actually listened on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http(s)://127.0.0.1:<port>`, for tests and logs.
    pub fn local_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The connection pool the server uses.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The in-process event bus of an instance alone (tests subscribe to see what was
    /// published); `None` when linked to others.
    pub fn events(&self) -> Option<&LocalEventBus> {
        self.events.as_ref()
    }

    /// Where `GET /metrics` is served; `None` when off.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().map(MetricsListener::addr)
    }

    /// A handle to stop the server gracefully from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM, SIGINT or [`ServerHandle::stop`], then drains (see `drain`);
    /// for at most [`AFTER_STOP_WAIT`] more, records the closed sockets' presence (their
    /// users offline) and lets the mail worker finish the email in hand, before the
    /// database pools go.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let drain = tokio::spawn(drain::on_signal(
            self.server.handle(),
            self.hub.clone(),
            self.shutdown_timeout,
        ));
        let served = self.server.await;
        drain.abort();
        let (presence, mail) = tokio::join!(
            tokio::time::timeout(AFTER_STOP_WAIT, self.hub.settle()),
            tokio::time::timeout(AFTER_STOP_WAIT, self.mail_worker.stop()),
        );
        if presence.is_err() {
            tracing::warn!("presence was not recorded in time; some users may show online");
        }
        if mail.is_err() {
            // The email stays queued in PostgreSQL: the next start delivers it.
            tracing::warn!("the mail worker did not stop in time; its email stays queued");
        }
        served
    }
}

/// Chat frames are small and latency-bound: Nagle's algorithm would hold a second frame
/// back until the client's delayed ACK (40 ms), so every accepted socket sends at once.
fn disable_nagle(connection: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    let socket = connection
        .downcast_ref::<actix_web::rt::net::TcpStream>()
        .or_else(|| {
            connection
                .downcast_ref::<actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>>()
                .map(|tls| tls.get_ref().0)
        });
    if let Some(socket) = socket
        && let Err(error) = socket.set_nodelay(true)
    {
        tracing::debug!(%error, "could not disable Nagle's algorithm");
    }
}

/// Ready when PostgreSQL answers and the schema is in place.
struct DatabaseProbe {
    database: Database,
    schema_ready: Arc<AtomicBool>,
}

#[async_trait]
impl ReadinessProbe for DatabaseProbe {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn check(&self) -> Result<(), DomainError> {
        if !self.schema_ready.load(Ordering::Acquire) {
            return Err(DomainError::Unavailable(Service::Database));
        }
        self.database.ping().await
    }
}

/// How long to wait before retry number `attempt` (1-based): doubling from 1 s up to 30 s.
pub fn retry_delay(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}
