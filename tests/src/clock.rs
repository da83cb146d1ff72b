//! A clock the test moves forward, for expiry without waiting.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use whisper_domain::{Clock, SystemClock};

/// The real time plus an offset the test advances; hand it to `TestApp::spawn_with_clock`.
#[derive(Default)]
pub struct AdjustableClock {
    offset: Mutex<Duration>,
}

impl AdjustableClock {
    /// Moves this clock `by` into the future.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now() + *self.offset.lock().unwrap()
    }
}
