//! What the tests of the real `whisper` binary share: a scratch working directory, a free
//! port, and the binary run with nothing but chosen variables in its environment.

#![allow(dead_code, clippy::unwrap_used)] // each test target uses part of it

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub const WHISPER: &str = env!("CARGO_BIN_EXE_whisper");

/// A scratch directory, removed with this value.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("whisper-bin-{}", suffix()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 12 random hex digits, for names nobody else uses.
pub fn suffix() -> String {
    let mut bytes = [0u8; 6];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `whisper <args>` in `work`, with nothing but `vars` in its environment (mail goes to
/// `work/mail`; no metrics listener, which parallel servers would fight over, unless
/// `vars` sets one).
pub fn whisper(work: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(WHISPER);
    command
        .args(args)
        .current_dir(work)
        .env_clear()
        .env(
            "WHISPER_MAIL",
            format!("file:{}", work.join("mail").display()),
        )
        .env("WHISPER_METRICS_ADDR", "off")
        .envs(vars.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs `whisper <args>` to its end.
pub fn run(work: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    whisper(work, args, vars).output().unwrap()
}
