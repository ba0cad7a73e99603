//! Time, behind a trait so tests can run on a virtual clock.

use std::fmt;
use std::time::SystemTime;

/// The source of "now" for timestamps, timers and timeouts.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
