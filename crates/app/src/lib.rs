//! The `whisper` server: configuration, wiring of the adapters, the CLI, background
//! workers and graceful shutdown. A library too, so tests can build the same
//! [`startup::Application`].

pub mod check_config;
pub mod drain;
pub mod fanout;
pub mod gen_cert;
pub mod metrics;
pub mod open_files;
pub mod schema;
pub mod services;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod tls;
pub mod workers;
