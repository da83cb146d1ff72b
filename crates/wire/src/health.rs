//! The body of the health probes, `/health/live` and `/health/ready`.

use serde::{Deserialize, Serialize};

/// The answer of a health probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthStatus {
    /// `ok` (live) or `ready` (ready).
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
}

impl HealthStatus {
    /// A probe answering `status`.
    pub fn new(status: &str) -> Self {
        Self {
            status: status.to_owned(),
        }
    }
}
