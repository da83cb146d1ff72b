//! Waiting for a child process to say it is ready, instead of polling its port: its output
//! is copied line by line to its log, and the wait ends at the first line holding the
//! process's own readiness message. It fails as soon as the process closes its output
//! (it exited) or after [`DEADLINE`].

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::{self, RecvTimeoutError};

use super::DEADLINE;

/// A child's output being copied to its log, and whether it said `ready` yet.
pub struct ReadyLine {
    said: mpsc::Receiver<()>,
    ready: &'static str,
}

impl ReadyLine {
    /// Copies `output` to `log` in a thread of its own until the child closes it.
    pub fn watch(output: impl Read + Send + 'static, mut log: File, ready: &'static str) -> Self {
        let (tell, said) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tell = Some(tell);
            for line in BufReader::new(output).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log, "{line}");
                if line.contains(ready)
                    && let Some(tell) = tell.take()
                {
                    let _ = tell.send(());
                }
            }
        });
        Self { said, ready }
    }

    /// Returns once the child said it is ready; panics with `log()` if it exits first or
    /// stays silent past the deadline.
    pub fn wait(self, what: &str, log: impl Fn() -> String) {
        match self.said.recv_timeout(DEADLINE) {
            Ok(()) => {}
            Err(RecvTimeoutError::Disconnected) => {
                panic!("{what} exited before saying {:?}:\n{}", self.ready, log())
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("{what} never said {:?}:\n{}", self.ready, log())
            }
        }
    }
}
