//! The PostgreSQL store's connections: two pools (one connection for the commits, the others
//! for reads), a bounded wait with backoff while the database is away, and which errors mean
//! "away".
//!
//! Everything here runs on a thread of tokio's blocking pool (see the module's doc), so it
//! waits with `std::thread::sleep` and measures with `std::time::Instant`: an outage is real
//! time, whatever a paused tokio clock says.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool, PoolError, Timeouts};
use tokio::runtime::Handle;

use super::error::{database, describe, failure, Failure};
use crate::store::StoreError;

/// Where the store's connections come from, and how long a call waits for the database.
#[derive(Clone)]
pub(super) struct Connections {
    shared: Arc<Shared>,
}

struct Shared {
    /// One connection, for the committing thread: writes never wait behind reads.
    writer: Pool,
    readers: Pool,
    /// How long a call waits for the database.
    wait: Duration,
    /// Where it connects, for messages.
    target: String,
    /// Since when the database has been failing, if it is.
    outage: Mutex<Option<Outage>>,
    handle: Handle,
}

#[derive(Debug, Clone, Copy)]
struct Outage {
    since: Instant,
    last_failure: Instant,
}

/// Each try to connect gets at least this long, even when the wait is shorter or spent: a
/// healthy server answers well within it.
const LEAST_ATTEMPT: Duration = Duration::from_secs(1);

/// The first pause between tries; it doubles up to [`MOST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const MOST_PAUSE: Duration = Duration::from_secs(1);

/// Pauses between tries: doubling, with jitter so that the workers of a fleet do not all
/// reconnect at the same instant, never past the deadline.
pub(super) struct Backoff {
    pause: Duration,
    deadline: Instant,
}

impl Backoff {
    pub(super) fn until(deadline: Instant) -> Self {
        Backoff {
            pause: FIRST_PAUSE,
            deadline,
        }
    }

    /// Sleeps before the next try; `false` (at once) if the deadline has passed.
    pub(super) fn pause(&mut self) -> bool {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let half = self.pause / 2;
        let jitter = Duration::from_micros(fastrand::u64(0..=half.as_micros() as u64));
        std::thread::sleep((half + jitter).min(left));
        self.pause = (self.pause * 2).min(MOST_PAUSE);
        true
    }
}

impl Connections {
    pub(super) fn new(
        writer: Pool,
        readers: Pool,
        wait: Duration,
        target: String,
        handle: Handle,
    ) -> Self {
        Connections {
            shared: Arc::new(Shared {
                writer,
                readers,
                wait,
                target,
                outage: Mutex::new(None),
                handle,
            }),
        }
    }

    pub(super) fn handle(&self) -> &Handle {
        &self.shared.handle
    }

    /// When a call starting now gives up: after the wait, counted from the start of an
    /// outage already under way (calls queued behind a failing one wait no longer than it).
    pub(super) fn deadline(&self) -> Instant {
        let now = Instant::now();
        let outage = *self
            .shared
            .outage
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match outage {
            // An outage is under way while tries keep failing; one whose last failure is
            // older than the wait is over (nothing tried since), and a new one starts now.
            Some(outage) if now.duration_since(outage.last_failure) < self.shared.wait => {
                outage.since + self.shared.wait
            }
            _ => now + self.shared.wait,
        }
    }

    /// Notes that the database failed to serve a call.
    pub(super) fn failed(&self) {
        let now = Instant::now();
        let mut outage = self
            .shared
            .outage
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match outage.as_mut() {
            Some(outage) if now.duration_since(outage.last_failure) < self.shared.wait => {
                outage.last_failure = now;
            }
            _ => {
                tracing::warn!(target = %self.shared.target, "PostgreSQL is unavailable; waiting for it");
                *outage = Some(Outage {
                    since: now,
                    last_failure: now,
                });
            }
        }
    }

    /// Notes that the database served a call.
    pub(super) fn served(&self) {
        let mut outage = self
            .shared
            .outage
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(was) = outage.take() {
            tracing::info!(
                target = %self.shared.target,
                after = ?was.since.elapsed(),
                "PostgreSQL is available again"
            );
        }
    }

    /// The error of a call that gave up at its deadline, having last seen `reason`.
    pub(super) fn gave_up(&self, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable {
            reason: format!(
                "PostgreSQL at {} did not answer within {:?} ({reason}); the call may be made again",
                self.shared.target, self.shared.wait
            ),
        }
    }

    /// The committing connection, waiting for the database until `deadline`.
    pub(super) fn writer(&self, deadline: Instant) -> Result<Object, StoreError> {
        self.get(&self.shared.writer, deadline)
    }

    /// A reading connection, waiting for the database until `deadline`.
    pub(super) fn reader(&self, deadline: Instant) -> Result<Object, StoreError> {
        self.get(&self.shared.readers, deadline)
    }

    /// A connection from `pool` (a new one if its idle ones are closed: the pool checks),
    /// trying again with backoff while the database is away, until `deadline`; one try at
    /// least. Must run on a blocking thread.
    fn get(&self, pool: &Pool, deadline: Instant) -> Result<Object, StoreError> {
        let mut backoff = Backoff::until(deadline);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let attempt = left.max(LEAST_ATTEMPT);
            let timeouts = Timeouts {
                wait: Some(attempt),
                create: Some(attempt),
                recycle: Some(attempt),
            };
            // Waited for as a task of the store's runtime: the pool's timers need its time
            // driver, and once the runtime shuts down the task is cancelled (and reported as
            // the store closing) where a timer made on this thread would panic.
            let handle = &self.shared.handle;
            let getting = {
                let pool = pool.clone();
                handle.spawn(async move { pool.timeout_get(&timeouts).await })
            };
            let Ok(got) = handle.block_on(getting) else {
                return Err(StoreError::Closed);
            };
            let reason = match got {
                Ok(connection) => return Ok(connection),
                Err(PoolError::Backend(error)) => match failure(&error) {
                    Failure::Broken | Failure::Transient => describe(&error),
                    // Refused for good (a wrong password, no such database): say so now.
                    Failure::Genuine => return Err(database(error)),
                },
                Err(PoolError::Timeout(_)) => {
                    format!("no connection within {attempt:?}")
                }
                Err(PoolError::Closed) => return Err(StoreError::Closed),
                Err(error) => return Err(StoreError::database(error.to_string(), error)),
            };
            // A runtime shutting down ends its connections and refuses new ones: no use
            // waiting (and its shutdown would wait for this thread).
            if self.shutting_down() {
                return Err(StoreError::Closed);
            }
            self.failed();
            if !backoff.pause() {
                return Err(self.gave_up(reason));
            }
        }
    }
}

impl Connections {
    /// Whether the store's tokio runtime is shutting down: it cancels a task spawned now.
    fn shutting_down(&self) -> bool {
        let handle = &self.shared.handle;
        matches!(handle.block_on(handle.spawn(async {})), Err(error) if error.is_cancelled())
    }
}

/// Takes a connection that failed out of its pool for good: it is closed, never reused.
pub(super) fn discard(connection: Object) {
    drop(Object::take(connection));
}
