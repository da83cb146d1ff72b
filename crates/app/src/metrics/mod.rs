//! `GET /metrics` in the Prometheus text format, on a listener of its own
//! (`WHISPER_METRICS_ADDR`), never with the API: the recorder every adapter reports to,
//! the gauges sampled at each scrape, and the small actix server answering scrapes.

mod recorder;
mod sampled;

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;

pub use sampled::Sampled;

/// The path scrapes are answered on.
pub const METRICS_PATH: &str = "/metrics";

/// The Prometheus text exposition format, version 0.0.4.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Installs the process's recorder now (it is installed once; later calls only check),
/// so that what happens before the listener starts is counted too.
pub fn install_recorder() -> anyhow::Result<()> {
    recorder::handle().map(drop)
}

/// The metrics listener, serving until this value is dropped.
pub struct MetricsListener {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl MetricsListener {
    /// Installs the recorder (once per process) and serves `GET /metrics` on `addr`
    /// (port 0 picks a free one) with one worker. Must be called inside a Tokio runtime.
    pub fn start(addr: SocketAddr, sampled: Sampled) -> anyhow::Result<Self> {
        let recorder = recorder::handle()?;
        let scrape = web::Data::new(Scrape { recorder, sampled });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(scrape.clone())
                .route(METRICS_PATH, web::get().to(render))
        })
        .workers(1)
        // Stopped with the API's server (see `Drop`), so a SIGTERM's drain is still observed.
        .disable_signals()
        .bind(addr)
        .with_context(|| format!("WHISPER_METRICS_ADDR: cannot listen on {addr}"))?;
        let bound = server
            .addrs()
            .first()
            .copied()
            .with_context(|| format!("WHISPER_METRICS_ADDR: cannot listen on {addr}"))?;
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        tracing::info!(addr = %bound, "metrics at {METRICS_PATH}");
        Ok(Self {
            addr: bound,
            handle,
        })
    }

    /// The address actually listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsListener {
    fn drop(&mut self) {
        // The stop command is sent at once; nobody needs to wait for its completion.
        drop(self.handle.stop(false));
    }
}

struct Scrape {
    recorder: PrometheusHandle,
    sampled: Sampled,
}

async fn render(scrape: web::Data<Scrape>) -> HttpResponse {
    scrape.sampled.refresh().await;
    scrape.recorder.run_upkeep();
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, PROMETHEUS_TEXT))
        .body(scrape.recorder.render())
}
