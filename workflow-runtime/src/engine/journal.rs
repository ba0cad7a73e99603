//! Where a durable execution's writes go, and what a run of it does when they fail.
//!
//! A store that is briefly unavailable (a database restarting, a full disk) pauses an
//! execution; it never fails it. A write that fails with a transient error
//! ([`StoreError::is_transient`]) is tried again with backoff, on the execution's clock, for as
//! long as the runtime's patience lasts (appends are idempotent, so a write whose answer was
//! lost can be tried again). A run that cannot go on (the runtime ran out of patience, the
//! store refused the write, or the execution is someone else's now or has ended) *halts*:
//! nothing more is recorded or run, its task ends, and the execution stays exactly as
//! recorded, for its owner to go on with later. A halted run never fails the execution.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::execution::ExecutionId;
use crate::history::Event;
use crate::store::{ExecutionEnd, StoreError, StoreFuture};

/// How long the runtime tries a failing store write again, by default, before it gives up on
/// the run (the execution stays as recorded, and is resumed when the store works again).
pub(crate) const DEFAULT_PATIENCE: Duration = Duration::from_secs(5 * 60);

/// The first pause before a failed write is tried again; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the engine needs of durable storage for one run of an execution: appending its
/// events, and giving it up during a long wait. The runtime implements it over its store,
/// under the lease the run holds; the engine sees nothing else of the store.
pub(crate) trait EventLog: Send + Sync + std::fmt::Debug {
    /// Appends `events` (and the end), if this run still holds the execution. The events are
    /// borrowed for the call only (see [`Store::append`](crate::store::Store::append)).
    fn append(&self, events: &[Event], end: Option<ExecutionEnd>) -> StoreFuture<()>;

    /// Gives the execution up until `wake_at`, if this run still holds it: another run
    /// resumes it then.
    fn park(&self, wake_at: SystemTime) -> StoreFuture<()>;
}

/// Where an execution's events are made durable, and what a run does while that fails.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    /// Where this run's writes go.
    pub(crate) log: Arc<dyn EventLog>,
    pub(crate) execution: ExecutionId,
    /// When the execution may leave memory while it waits.
    pub(crate) parking: Option<Parking>,
    /// How long failing writes are tried again, on this clock.
    pub(crate) patience: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    /// Told when this run of the execution must end.
    pub(crate) halt: Arc<Halt>,
}

impl Journal {
    /// Does `write` durably, trying it again while the store fails for a while. When it cannot
    /// be done, the run halts here: this never returns then.
    pub(crate) async fn durably<T>(&self, what: &str, write: impl FnMut() -> StoreFuture<T>) -> T {
        match retrying(&self.clock, self.patience, what, write).await {
            Ok(done) => done,
            Err(error) => {
                tracing::warn!(execution = %self.execution, %error, "{what}: this run of the execution stops here; it goes on from what is recorded");
                self.halt.halt(Halted::after(error));
                std::future::pending().await
            }
        }
    }

    /// Appends events (and the end), if this run still holds the execution.
    pub(crate) fn append(&self, events: &[Event], end: Option<ExecutionEnd>) -> StoreFuture<()> {
        self.log.append(events, end)
    }

    /// Parks the execution until `wake_at` if its runtime parks executions and the wait is
    /// longer than it parks after: gives its lease up until then, sets an alarm, and halts
    /// this run. Whether it parked. Not parked if the lease is gone or the store failed: the
    /// wait goes on here, and the next write says what happened.
    pub(crate) async fn park(&self, wake_at: SystemTime, now: SystemTime) -> bool {
        let Some(parking) = &self.parking else {
            return false;
        };
        if wake_at.duration_since(now).unwrap_or_default() <= parking.after {
            return false;
        }
        // The alarm comes first: once the lease is given up, this run may be stopped at any
        // moment (a renewal under way no longer finds the lease), and the runtime must still
        // know when to wake the execution.
        parking.alarms.set(wake_at, self.execution.clone());
        let parked = self.log.park(wake_at).await.is_ok();
        if parked {
            self.halt.halt(Halted::Parked);
        } else {
            parking.alarms.remove(&self.execution);
        }
        parked
    }
}

/// How an execution leaves memory during a long wait: it gives its lease up until the wait
/// ends, so that it holds no runtime's memory or capacity, and sets an alarm with its runtime,
/// which claims it back when it is due (unless another runtime did).
#[derive(Debug, Clone)]
pub(crate) struct Parking {
    /// Waits longer than this park.
    pub(crate) after: Duration,
    /// Where a parked execution asks to be woken: its runtime's alarms.
    pub(crate) alarms: Arc<dyn Alarms>,
}

/// Wakes parked executions when they are due: the runtime's scheduler implements it, so the
/// engine parks without knowing the runtime.
pub(crate) trait Alarms: Send + Sync + std::fmt::Debug {
    /// Wakes `execution` at `at` (instead of when an earlier alarm said).
    fn set(&self, at: SystemTime, execution: ExecutionId);
    /// Forgets the alarm of `execution`, if it has one.
    fn remove(&self, execution: &ExecutionId);
}

/// Why a run of an execution ended without ending the execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Halted {
    /// It waits out of memory, and is resumed when due.
    Parked,
    /// It is not this run's any more: another runtime holds it, or it ended (was stopped).
    Lost(StoreError),
    /// The store failed (for longer than the runtime's patience, or for good): the execution
    /// stays as recorded, to go on when the store works again.
    StoreFailed(StoreError),
}

impl Halted {
    /// How a run halts after a write failed with `error` and may not be tried again.
    pub(crate) fn after(error: StoreError) -> Self {
        match error {
            StoreError::LeaseLost { .. } | StoreError::Conflict { .. } => Halted::Lost(error),
            error => Halted::StoreFailed(error),
        }
    }
}

/// The signal that ends a run: the first reason given wins.
#[derive(Debug, Default)]
pub(crate) struct Halt {
    why: Mutex<Option<Halted>>,
    told: Notify,
}

impl Halt {
    /// Ends the run for `why` (unless it was ended already).
    pub(crate) fn halt(&self, why: Halted) {
        let mut slot = self.why.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(why);
        }
        // A permit is kept if no one waits yet.
        self.told.notify_one();
    }

    /// Waits until the run is ended, and says why.
    pub(crate) async fn halted(&self) -> Halted {
        loop {
            if let Some(why) = self
                .why
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
            {
                return why;
            }
            self.told.notified().await;
        }
    }
}

/// Tries `write` until it succeeds, a failure is not transient, or `patience` (counted on
/// `clock` from the first failure) runs out; pauses between tries double from 50 ms to 5 s,
/// with jitter. `what` names the write for the log.
pub(crate) async fn retrying<T>(
    clock: &Arc<dyn Clock>,
    patience: Duration,
    what: &str,
    mut write: impl FnMut() -> StoreFuture<T>,
) -> Result<T, StoreError> {
    let mut backoff = Backoff::default();
    loop {
        match write().await {
            Ok(done) => {
                if backoff.tries > 0 {
                    tracing::info!(tries = backoff.tries + 1, "{what}: the store works again");
                }
                return Ok(done);
            }
            Err(error) if error.is_transient() => {
                let Some(pause) = backoff.next(clock.now(), patience) else {
                    tracing::error!(%error, "{what}: the store is still failing; giving up for now");
                    return Err(error);
                };
                if backoff.tries == 1 {
                    tracing::warn!(%error, "{what}: the store failed; trying again until it works");
                }
                clock.sleep(pause).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Pauses between tries of a failing write.
#[derive(Debug, Default)]
struct Backoff {
    /// When the first try failed.
    since: Option<SystemTime>,
    /// How many tries failed.
    tries: u32,
    pause: Duration,
}

impl Backoff {
    /// The pause before the next try, or `None` when `patience` has run out.
    fn next(&mut self, now: SystemTime, patience: Duration) -> Option<Duration> {
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since).unwrap_or_default() >= patience {
            return None;
        }
        self.tries += 1;
        self.pause = if self.pause.is_zero() {
            FIRST_BACKOFF
        } else {
            (self.pause * 2).min(MAX_BACKOFF)
        };
        // Between half and all of the pause, so that executions that failed together do not
        // all try again together.
        let jittered = self.pause.mul_f64(0.5 + fastrand::f64() / 2.0);
        Some(jittered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_ends_with_patience() {
        let start = SystemTime::UNIX_EPOCH;
        let mut backoff = Backoff::default();
        let mut pauses = Vec::new();
        for _ in 0..10 {
            pauses.push(backoff.next(start, Duration::from_secs(60)));
        }
        assert!(pauses.iter().all(Option::is_some));
        assert!(backoff.pause == MAX_BACKOFF);
        assert!(pauses[0].is_some_and(|pause| pause <= FIRST_BACKOFF));
        let later = start + Duration::from_secs(60);
        assert_eq!(backoff.next(later, Duration::from_secs(60)), None);
    }

    #[test]
    fn the_first_reason_to_halt_wins() {
        let halt = Halt::default();
        halt.halt(Halted::Parked);
        halt.halt(Halted::StoreFailed(StoreError::Closed));
        let why = halt
            .why
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        assert_eq!(why, Some(Halted::Parked));
    }
}
