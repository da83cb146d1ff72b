//! The domain services built from their adapters, every one reading the time from the
//! one clock it is given.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;
use whisper_crypto::CryptoSuite;
use whisper_domain::ports::{Clock, Quotas, SessionSignals};
use whisper_domain::{
    Accounts, AccountsPolicy, AccountsPorts, CachedMembership, CachedTokens, Chat, ChatPolicy,
    ChatPorts, LockoutPolicy, MailDelivery, RetryPolicy, RoomEvent, Rooms, RoomsPorts,
};
use whisper_google::{GoogleConfig, GoogleSignIn};
use whisper_http::PublicUrl;
use whisper_local::FsMediaStore;
use whisper_postgres::{
    Database, PgMailOutbox, PgMessages, PgRooms, PgTokens, PgTotpAttempts, PgTotpDevices, PgUsers,
    PgVerificationCodes,
};
use whisper_rest::accounts::social::SocialProviders;
use whisper_smtp::SmtpMailer;
use whisper_ws::{Hub, HubPorts, SocketServices};

use crate::fanout::Fanout;
use crate::settings::Settings;
use crate::startup::Databases;

/// Every service the HTTP and WebSocket edges and the workers are given.
pub struct Services {
    /// Registration, verification, TOTP, sessions.
    pub accounts: Accounts,
    /// Rooms, members, history and media.
    pub rooms: Rooms,
    /// Chat and the hub fanning events out to this instance's sockets.
    pub sockets: SocketServices,
    /// The configured identity providers.
    pub social: SocialProviders,
    /// Delivery of the mail outbox, run by the mail worker.
    pub mail_delivery: Arc<MailDelivery>,
    /// Notified when an email is committed to the outbox: wakes the mail worker.
    pub mail_queued: Arc<Notify>,
    /// How this instance reaches the others (alone: in process).
    pub fanout: Fanout,
    /// Rate-limit budgets shared by every instance, when linked.
    pub quotas: Option<Arc<dyn Quotas>>,
}

impl Services {
    /// Builds every service on `databases`, reading the time from `clock`; links point
    /// under `public_url`. Must run inside the Tokio runtime (the SMTP pool and the hub are
    /// bound to it).
    pub fn build(
        settings: &Settings,
        databases: &Databases,
        public_url: &PublicUrl,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let mail_queued = Arc::new(Notify::new());
        let fanout = Fanout::start(settings)?;
        let quotas = fanout.quotas();
        Ok(Self {
            accounts: accounts(
                settings,
                &databases.main,
                mail_queued.clone(),
                public_url,
                fanout.signals(),
                clock.clone(),
            ),
            rooms: rooms(
                settings,
                &databases.main,
                &databases.messages,
                &fanout,
                clock.clone(),
            ),
            sockets: sockets(
                settings,
                databases,
                &fanout,
                quotas.clone(),
                public_url,
                clock.clone(),
            ),
            social: social_providers(settings, public_url)?,
            mail_delivery: Arc::new(mail_delivery(settings, &databases.main, clock)?),
            mail_queued,
            fanout,
            quotas,
        })
    }
}

/// The accounts use case, wired to PostgreSQL and the crypto adapters; emailed links
/// point under `public_url`.
pub fn accounts(
    settings: &Settings,
    database: &Database,
    mail_queued: Arc<Notify>,
    public_url: &PublicUrl,
    signals: Arc<dyn SessionSignals>,
    clock: Arc<dyn Clock>,
) -> Accounts {
    let crypto = CryptoSuite::new(settings.secret_key.master_key());
    let tokens = Arc::new(CachedTokens::new(
        PgTokens::new(database.clone()),
        clock.clone(),
    ));
    let forgetting = tokens.clone();
    signals.listen(Box::new(move |ended| forgetting.forget(ended)));
    let ports = AccountsPorts {
        users: Arc::new(PgUsers::new(database.clone())),
        codes: Arc::new(PgVerificationCodes::notifying(
            database.clone(),
            mail_queued,
        )),
        devices: Arc::new(PgTotpDevices::new(
            database.clone(),
            Arc::new(crypto.sealer),
        )),
        attempts: Arc::new(PgTotpAttempts::new(database.clone())),
        tokens: tokens.clone(),
        link_tokens: Arc::new(crypto.link_tokens),
        links: Arc::new(public_url.clone()),
        totp: Arc::new(crypto.totp),
        codec: Arc::new(crypto.jwt),
        signals,
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
/// statements are planned once), the media directory and this instance's fan-out.
pub fn rooms(
    settings: &Settings,
    database: &Database,
    message_database: &Database,
    fanout: &Fanout,
    clock: Arc<dyn Clock>,
) -> Rooms {
    let membership = Arc::new(CachedMembership::new(
        PgRooms::new(database.clone()),
        clock.clone(),
    ));
    let forgetting = membership.clone();
    fanout.source().listen(Box::new(move |event| {
        if let RoomEvent::MemberRemoved { room, user, .. } = event {
            forgetting.forget(room, user);
        }
    }));
    Rooms::new(RoomsPorts {
        users: Arc::new(PgUsers::new(database.clone())),
        rooms: membership,
        messages: Arc::new(PgMessages::new(message_database.clone())),
        media: Arc::new(FsMediaStore::new(&settings.server.media_dir)),
        events: fanout.bus(),
        clock,
    })
}

/// Removes the half-written media files a killed process left (a start-up step; see
/// `whisper_local::incoming`). A sweep that fails is logged, not fatal: the files it
/// could not remove are never served, since no message points to them.
pub fn sweep_abandoned_media(settings: &Settings) {
    let root = &settings.server.media_dir;
    match FsMediaStore::sweep_abandoned(root) {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed half-written media files"),
        Err(error) => {
            tracing::warn!(%error, dir = %root.display(), "cannot sweep the media directory");
        }
    }
}

/// The chat use case and the WebSocket hub, on this instance's fan-out; sends are limited
/// in `quotas` when instances share them.
pub fn sockets(
    settings: &Settings,
    databases: &Databases,
    fanout: &Fanout,
    quotas: Option<Arc<dyn Quotas>>,
    public_url: &PublicUrl,
    clock: Arc<dyn Clock>,
) -> SocketServices {
    let history = Arc::new(PgMessages::new(databases.messages.clone()));
    let chat = Chat::new(
        ChatPorts {
            messages: history.clone(),
            media: Arc::new(FsMediaStore::new(&settings.server.media_dir)),
            events: fanout.bus(),
            clock: clock.clone(),
        },
        ChatPolicy {
            media_max_bytes: settings.websocket.media_max_bytes,
        },
    );
    let hub = Hub::start(
        HubPorts {
            events: fanout.source(),
            signals: fanout.signals(),
            presence: fanout.presence(Arc::new(PgUsers::new(databases.main.clone()))),
            history,
        },
        settings.ws_settings(),
        public_url.clone(),
        fanout.catch_up(),
    );
    SocketServices {
        hub,
        chat: Arc::new(chat),
        settings: settings.ws_settings(),
        public_url: public_url.clone(),
        clock,
        quotas,
    }
}

/// Mail delivery from the outbox of `database` through the configured transport. Must run
/// inside the Tokio runtime (the SMTP pool is bound to it).
pub fn mail_delivery(
    settings: &Settings,
    database: &Database,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<MailDelivery> {
    let mailer =
        SmtpMailer::new(&settings.mail.transport, &settings.mail.sender).context("WHISPER_MAIL")?;
    Ok(MailDelivery::new(
        Arc::new(PgMailOutbox::new(database.clone())),
        Arc::new(mailer),
        clock,
        RetryPolicy::default(),
    ))
}

/// The identity providers configured: Google when `WHISPER_GOOGLE_CLIENT_ID` is set.
pub fn social_providers(
    settings: &Settings,
    public_url: &PublicUrl,
) -> anyhow::Result<SocialProviders> {
    let google = &settings.google;
    let Some(client_id) = google.client_id.clone() else {
        return Ok(SocialProviders::default());
    };
    let redirect_url = url::Url::parse(&public_url.social_completion(whisper_google::BACKEND))
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
