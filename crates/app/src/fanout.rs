//! How this instance reaches the others: alone, events, presence and rate limits stay in
//! the process; linked through Redis (`WHISPER_REDIS_URL`), they are shared, and the hub
//! catches up from PostgreSQL on whatever the link missed.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use whisper_domain::DomainError;
use whisper_domain::ports::{
    EventBus, EventSource, Presence, Quotas, SessionSignals, UserRepository,
};
use whisper_local::{LocalEventBus, LocalPresence};
use whisper_redis::{
    PresenceTiming, RedisConfig, RedisEventBus, RedisLink, RedisPresence, RedisQuotas,
};
use whisper_rest::ReadinessProbe;
use whisper_ws::CatchUp;

use crate::settings::Settings;

/// The adapters that differ between one instance and several.
pub enum Fanout {
    /// The only instance: everything in process.
    Alone(LocalEventBus),
    /// One of several, linked through Redis.
    Linked {
        /// The link to Redis.
        link: Arc<RedisLink>,
        /// The bus over it.
        bus: RedisEventBus,
    },
}

impl Fanout {
    /// Alone without `WHISPER_REDIS_URL`, else linked (starting degraded, and retrying,
    /// when Redis does not answer yet). Must run inside the Tokio runtime.
    pub fn start(settings: &Settings) -> anyhow::Result<Self> {
        let Some(url) = &settings.redis.url else {
            return Ok(Self::Alone(LocalEventBus::new()));
        };
        let config = RedisConfig {
            url: url.expose().to_owned(),
            prefix: settings.redis.prefix.clone(),
        };
        let link = RedisLink::start(config).context("WHISPER_REDIS_URL")?;
        let bus = RedisEventBus::new(link.clone());
        Ok(Self::Linked { link, bus })
    }

    /// Where the services announce room events.
    pub fn bus(&self) -> Arc<dyn EventBus> {
        match self {
            Self::Alone(local) => Arc::new(local.clone()),
            Self::Linked { bus, .. } => Arc::new(bus.clone()),
        }
    }

    /// Where the hub hears room events.
    pub fn source(&self) -> Arc<dyn EventSource> {
        match self {
            Self::Alone(local) => Arc::new(local.clone()),
            Self::Linked { bus, .. } => Arc::new(bus.clone()),
        }
    }

    /// Where ended sessions are announced and heard.
    pub fn signals(&self) -> Arc<dyn SessionSignals> {
        match self {
            Self::Alone(local) => Arc::new(local.clone()),
            Self::Linked { bus, .. } => Arc::new(bus.clone()),
        }
    }

    /// Who is connected where; online flags are written through `users`.
    pub fn presence(&self, users: Arc<dyn UserRepository>) -> Arc<dyn Presence> {
        match self {
            Self::Alone(_) => Arc::new(LocalPresence::start(users)),
            Self::Linked { link, .. } => Arc::new(RedisPresence::start(
                link.clone(),
                users,
                PresenceTiming::default(),
            )),
        }
    }

    /// Rate-limit budgets shared by every instance; `None` alone (each process counts).
    pub fn quotas(&self) -> Option<Arc<dyn Quotas>> {
        match self {
            Self::Alone(_) => None,
            Self::Linked { link, .. } => Some(Arc::new(RedisQuotas::new(link.clone()))),
        }
    }

    /// How the hub catches up with other instances; `None` alone (nothing can be missed).
    pub fn catch_up(&self) -> Option<CatchUp> {
        match self {
            Self::Alone(_) => None,
            Self::Linked { .. } => Some(CatchUp::default()),
        }
    }

    /// The readiness probe of Redis, when linked.
    pub fn probe(&self) -> Option<Arc<dyn ReadinessProbe>> {
        match self {
            Self::Alone(_) => None,
            Self::Linked { link, .. } => Some(Arc::new(RedisProbe(link.clone()))),
        }
    }

    /// The link to Redis, when linked (its state is reported as metrics).
    pub fn link(&self) -> Option<Arc<RedisLink>> {
        match self {
            Self::Alone(_) => None,
            Self::Linked { link, .. } => Some(link.clone()),
        }
    }

    /// The in-process bus, when alone (tests watch what is published on it).
    pub fn local(&self) -> Option<&LocalEventBus> {
        match self {
            Self::Alone(local) => Some(local),
            Self::Linked { .. } => None,
        }
    }
}

/// Redis answering through the link; optional: without it the instance serves
/// everything, degraded.
struct RedisProbe(Arc<RedisLink>);

#[async_trait]
impl ReadinessProbe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn essential(&self) -> bool {
        false
    }

    async fn check(&self) -> Result<(), DomainError> {
        if self.0.is_up() {
            Ok(())
        } else {
            Err(DomainError::internal("redis does not answer"))
        }
    }
}
