//! The process's one Prometheus recorder: installed on first use and shared by every
//! [`crate::startup::Application`] of the process (tests build several in one).

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::anyhow;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Delivery from storage to a socket: a fraction of a millisecond alone, milliseconds
/// across instances, seconds for a wedged link or a catch-up.
const DELIVERY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Answering a request: sub-millisecond reads to multi-second media uploads.
const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histograms are drained into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The handle to render the process's metrics with, installing the recorder first if
/// this is the first call. Fails when another recorder was installed before.
pub fn handle() -> anyhow::Result<PrometheusHandle> {
    RECORDER
        .get_or_init(|| install().map_err(|error| format!("{error:#}")))
        .clone()
        .map_err(|error| anyhow!("cannot record metrics: {error}"))
}

fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(whisper_ws::socket_metrics::DELIVERY_LATENCY.to_owned()),
            DELIVERY_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(whisper_http::request_metrics::REQUEST_DURATION.to_owned()),
            REQUEST_BUCKETS,
        )?
        .install_recorder()?;
    whisper_ws::socket_metrics::describe();
    whisper_http::request_metrics::describe();
    whisper_postgres::storage_metrics::describe();
    whisper_redis::link_metrics::describe();
    // A thread, not a task: it must outlive whichever runtime built the first application.
    let upkept = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkept.run_upkeep();
            }
        })?;
    Ok(handle)
}
