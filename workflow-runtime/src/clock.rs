//! Time, behind a trait: every timestamp, backoff delay, timeout and wait goes through a
//! [`Clock`], so tests can run on virtual time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A timer returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The source of "now" and of timers for the engine.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The system's wall clock, with tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Virtual time for tests: starts at a fixed instant and advances only as tokio's clock does.
///
/// Use it in a runtime whose clock is paused (`#[tokio::test(start_paused = true)]`, which needs
/// tokio's `test-util` feature). Tokio then jumps straight to the next timer whenever every task
/// is idle, so a backoff of ten minutes or a one-year wait completes at once, while timestamps
/// in the history still show the virtual times, exactly.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use workflow::{Clock, VirtualClock};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let clock = VirtualClock::starting_at(UNIX_EPOCH);
/// clock.sleep(Duration::from_secs(3600)).await; // returns at once
/// assert_eq!(clock.elapsed(), Duration::from_secs(3600));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(3600));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct VirtualClock {
    origin: SystemTime,
    started: tokio::time::Instant,
}

impl VirtualClock {
    /// Virtual time starting at 2025-01-01T00:00:00Z.
    pub fn new() -> Self {
        // 2025-01-01T00:00:00Z: a fixed, recognisable origin for timestamps in tests.
        Self::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600))
    }

    /// Virtual time starting at `origin`.
    ///
    /// Create it inside the (paused) tokio runtime it will be used in.
    pub fn starting_at(origin: SystemTime) -> Self {
        VirtualClock {
            origin,
            started: tokio::time::Instant::now(),
        }
    }

    /// The virtual time passed since the clock was created.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        self.origin + self.started.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
}
