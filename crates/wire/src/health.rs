//! The body of the health probes, `/health/live` and `/health/ready`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The answer of a health probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthStatus {
    /// `ok` (live), `ready` (every backing service answers) or `degraded` (serving
    /// everything, but an optional service such as Redis is down).
    #[cfg_attr(feature = "openapi", schema(example = "ready"))]
    pub status: String,
    /// Each backing service and its state, `up` or `down` (readiness only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, String>,
}

impl HealthStatus {
    /// A probe answering `status`.
    pub fn new(status: &str) -> Self {
        Self {
            status: status.to_owned(),
            services: BTreeMap::new(),
        }
    }

    /// Records `service` as up or down.
    pub fn with_service(mut self, service: &str, up: bool) -> Self {
        let state = if up { "up" } else { "down" };
        self.services.insert(service.to_owned(), state.to_owned());
        self
    }
}
