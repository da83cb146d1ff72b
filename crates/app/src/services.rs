//! The domain services built from their adapters, and the background mail deliverer.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use whisper_crypto::CryptoSuite;
use whisper_domain::ports::{Clock, EventBus, VerificationCodes};
use whisper_domain::{
    Accounts, AccountsPolicy, AccountsPorts, Chat, ChatPolicy, ChatPorts, DomainResult,
    LockoutPolicy, MailDelivery, OutgoingEmail, RetryPolicy, Rooms, RoomsPorts, SecretDigest,
    SystemClock, UserId, VerificationCode,
};
use whisper_google::{GoogleConfig, GoogleSignIn};
use whisper_postgres::{
    Database, PgMailOutbox, PgMessages, PgRooms, PgTokens, PgTotpAttempts, PgTotpDevices, PgUsers,
    PgVerificationCodes,
};
use whisper_rest::accounts::social::SocialProviders;
use whisper_rest::{PublicLinks, PublicUrl};
use whisper_smtp::SmtpMailer;
use whisper_ws::{Hub, LocalEventBus, LocalTurns, SocketServices};

use crate::caching::{CachedMembership, CachedTokens};
use crate::media_store::FsMediaStore;
use crate::settings::Settings;

/// How often the deliverer looks for emails whose retry time came, when nobody wakes it.
const OUTBOX_POLL: Duration = Duration::from_secs(2);

/// The accounts use case, wired to PostgreSQL and the crypto adapters.
pub fn accounts(settings: &Settings, database: &Database, mail_queued: Arc<Notify>) -> Accounts {
    let crypto = CryptoSuite::new(settings.secret_key.master_key());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ports = AccountsPorts {
        users: Arc::new(PgUsers::new(database.clone())),
        codes: Arc::new(WakingCodes {
            inner: PgVerificationCodes::new(database.clone()),
            mail_queued,
        }),
        devices: Arc::new(PgTotpDevices::new(
            database.clone(),
            Arc::new(crypto.sealer),
        )),
        attempts: Arc::new(PgTotpAttempts::new(database.clone())),
        tokens: Arc::new(CachedTokens::new(PgTokens::new(database.clone()))),
        link_tokens: Arc::new(crypto.link_tokens),
        links: Arc::new(PublicLinks::new(PublicUrl(
            settings
                .server
                .public_url
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
        ))),
        totp: Arc::new(crypto.totp),
        codec: Arc::new(crypto.jwt),
        clock,
    };
    let lifetimes = &settings.lifetimes;
    let policy = AccountsPolicy {
        verification_lifetime: chrono_duration(lifetimes.verification_link),
        access_lifetime: chrono_duration(lifetimes.access_token),
        refresh_lifetime: chrono_duration(lifetimes.refresh_token),
        lockout: LockoutPolicy::default(),
    };
    Accounts::new(ports, policy)
}

/// The rooms use case, wired to PostgreSQL (messages through `message_database`, whose
/// statements are planned once), the media directory and the event bus.
pub fn rooms(
    settings: &Settings,
    database: &Database,
    message_database: &Database,
    events: Arc<dyn EventBus>,
) -> Rooms {
    Rooms::new(RoomsPorts {
        users: Arc::new(PgUsers::new(database.clone())),
        rooms: Arc::new(CachedMembership::new(PgRooms::new(database.clone()))),
        messages: Arc::new(PgMessages::new(message_database.clone())),
        media: Arc::new(FsMediaStore::new(&settings.server.media_dir)),
        events,
        clock: Arc::new(SystemClock),
    })
}

/// The chat use case and the WebSocket hub, sharing the in-process event bus.
pub fn sockets(
    settings: &Settings,
    database: &Database,
    message_database: &Database,
    events: &LocalEventBus,
    public_url: &str,
) -> SocketServices {
    let chat = Chat::new(
        ChatPorts {
            messages: Arc::new(PgMessages::new(message_database.clone())),
            media: Arc::new(FsMediaStore::new(&settings.server.media_dir)),
            events: Arc::new(events.clone()),
            turns: Arc::new(LocalTurns::new()),
            clock: Arc::new(SystemClock),
        },
        ChatPolicy {
            media_max_bytes: settings.websocket.media_max_bytes,
        },
    );
    let hub = Hub::start(
        events,
        Arc::new(PgUsers::new(database.clone())),
        settings.websocket,
        public_url.to_owned(),
    );
    SocketServices {
        hub,
        chat: Arc::new(chat),
        settings: settings.websocket,
        public_url: public_url.to_owned(),
    }
}

/// The identity providers configured: Google when `WHISPER_GOOGLE_CLIENT_ID` is set.
pub fn social_providers(settings: &Settings) -> anyhow::Result<SocialProviders> {
    let google = &settings.google;
    let Some(client_id) = google.client_id.clone() else {
        return Ok(SocialProviders::default());
    };
    let redirect_url = settings
        .server
        .public_url
        .join(&format!(
            "/api/v1/user/social/complete/{}/",
            whisper_google::BACKEND
        ))
        .context("WHISPER_PUBLIC_URL")?;
    let adapter = GoogleSignIn::new(GoogleConfig {
        client_id,
        client_secret: google.client_secret.as_ref().map(|s| s.expose().to_owned()),
        auth_url: google.auth_url.clone(),
        token_url: google.token_url.clone(),
        userinfo_url: google.userinfo_url.clone(),
        redirect_url,
        timeout: google.timeout,
    })
    .context("WHISPER_GOOGLE_CLIENT_ID")?;
    Ok(SocialProviders::new(vec![Arc::new(adapter)]))
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Verification codes that wake the mail deliverer once their email is committed, so
/// mail leaves at once instead of at the next poll.
struct WakingCodes {
    inner: PgVerificationCodes,
    mail_queued: Arc<Notify>,
}

#[async_trait]
impl VerificationCodes for WakingCodes {
    async fn issue(&self, code: &VerificationCode, email: &OutgoingEmail) -> DomainResult<()> {
        self.inner.issue(code, email).await?;
        self.mail_queued.notify_one();
        Ok(())
    }

    async fn find_for_user(&self, user_id: &UserId) -> DomainResult<Option<VerificationCode>> {
        self.inner.find_for_user(user_id).await
    }

    async fn find_by_digest(
        &self,
        digest: &SecretDigest,
    ) -> DomainResult<Option<VerificationCode>> {
        self.inner.find_by_digest(digest).await
    }

    async fn consume(&self, digest: &SecretDigest) -> DomainResult<whisper_domain::User> {
        self.inner.consume(digest).await
    }

    async fn discard(&self, user_id: &UserId) -> DomainResult<()> {
        self.inner.discard(user_id).await
    }
}

/// The running mail deliverer; stop it with [`MailWorker::stop`].
pub struct MailWorker {
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

impl MailWorker {
    /// Starts delivering the outbox of `database` through the configured transport.
    /// Must run inside the Tokio runtime (the SMTP pool is bound to it).
    pub fn start(
        settings: &Settings,
        database: &Database,
        mail_queued: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let mailer = SmtpMailer::new(&settings.mail.transport, &settings.mail.sender)
            .context("WHISPER_MAIL")?;
        let delivery = Arc::new(MailDelivery::new(
            Arc::new(PgMailOutbox::new(database.clone())),
            Arc::new(mailer),
            Arc::new(SystemClock),
            RetryPolicy::default(),
        ));
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(whisper_smtp::run_outbox_delivery(
            delivery,
            OUTBOX_POLL,
            mail_queued,
            async move { stopped.notified().await },
        ));
        Ok(Self { stop, task })
    }

    /// Lets a delivery pass in progress finish, then stops.
    pub async fn stop(self) {
        self.stop.notify_one();
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "mail delivery task failed");
        }
    }
}
