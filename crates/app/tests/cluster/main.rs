//! Several `whisper serve` processes behaving as one server (API.md, "Several instances"),
//! tested with real processes, a real PostgreSQL and a real Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod churn;
mod delivery;
mod drain;
mod faults_mail;
mod faults_media_disk;
mod faults_media_kill;
mod faults_postgres;
mod harness;
mod instances;
mod limits;
mod membership;
mod nginx;
mod outages;
