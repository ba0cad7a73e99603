//! Every durable execution has exactly one owner at a time: the runtime that runs it, holding
//! its lease. Every append carries the lease's token, so a runtime that lost an execution can
//! write nothing more to it. A runtime renews the leases of what it runs, and takes over
//! (claims) only executions whose owner is gone: without an owner (new, parked until a time
//! that has come, redriven), with a lease that ran out, or whose owner is known to have ended
//! — a runtime of this process that shut down, or, on SQLite, a process whose lock file is
//! free. So two runtimes on one store never run the same execution, and a restarted process
//! takes over a dead one's executions at once, but never those of a live one (a rolling
//! restart hands over cleanly when the old process goes).
//!
//! A runtime keeps its executions from its first durable operation on: a keeper, on a thread
//! of its own that ticks in real time (a test's virtual clock does not make it spin), renews
//! its leases and claims what is free, as [`Runtime::recover`] does at once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;

use futures_util::StreamExt;

use super::resume::Resumption;
use super::{Inner, Runtime, RuntimeError};
use crate::execution::ExecutionId;
use crate::store::{Claim, ClaimRequest, Fence, Liveness, OpenVersion, StoreError};

/// How long a lease lasts without renewal, unless [`RuntimeBuilder::lease`] says otherwise.
///
/// [`RuntimeBuilder::lease`]: super::RuntimeBuilder::lease
pub(super) const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How many claimed executions are read and resumed at once.
const RESUMING_AT_ONCE: usize = 64;

/// The runtimes of this process, by owner name: alive, or ended.
static OWNERS: LazyLock<Mutex<HashMap<String, bool>>> = LazyLock::new(Mutex::default);

fn owners() -> std::sync::MutexGuard<'static, HashMap<String, bool>> {
    OWNERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a runtime owns executions.
#[derive(Debug, Clone)]
pub(super) struct LeaseSettings {
    /// Its owner name, unique among the runtimes sharing a store.
    pub(super) worker: String,
    /// How long a lease lasts without renewal.
    pub(super) duration: Duration,
    /// How often a serving worker looks for executions to claim.
    pub(super) poll: Duration,
    /// How many executions it runs at once at most.
    pub(super) capacity: usize,
    /// Waits (Wait states, retry intervals) longer than this park the execution in the store,
    /// leaving it to whichever runtime claims it when it is due.
    pub(super) park_after: Option<Duration>,
    /// Whether it was configured as one of several workers ([`RuntimeBuilder::lease`]).
    ///
    /// [`RuntimeBuilder::lease`]: super::RuntimeBuilder::lease
    pub(super) configured: bool,
}

impl LeaseSettings {
    pub(super) fn new() -> Self {
        LeaseSettings {
            worker: format!("runtime-{}", uuid::Uuid::new_v4().simple()),
            duration: DEFAULT_LEASE,
            poll: Duration::from_millis(500),
            capacity: 10_000,
            park_after: None,
            configured: false,
        }
    }
}

/// What recovery did: the executions it resumed, those it could not read, and those it left
/// for a process with their workflow's version.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Recovery {
    /// The executions resumed here.
    pub resumed: Vec<ExecutionId>,
    /// The executions whose stored data cannot be read, with why; the others resumed
    /// regardless. One whose data reads but does not fit the workflow any more (an input of
    /// another type, a history the workflow no longer records) has failed with
    /// `States.Runtime`; one whose data does not read at all is left as it is.
    pub unreadable: Vec<(ExecutionId, String)>,
    /// The versions of registered workflows that running executions run on but this runtime
    /// does not have, with how many executions each: left as they are (not failed, not
    /// claimed) for a process that has the version. Filled in by
    /// [`Runtime::recover`](super::Runtime::recover).
    pub elsewhere: Vec<OpenVersion>,
}

impl Runtime {
    /// Registers this runtime as an owner (in this process, and with the store where it can
    /// say so to other processes) and starts its keeper, once. Must be called within a tokio
    /// runtime.
    pub(super) fn keep_executions(&self) -> Result<(), RuntimeError> {
        let mut presence = self
            .inner
            .scheduler
            .presence
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if presence.is_some() || self.inner.scheduler.shut_down.load(Ordering::Relaxed) {
            return Ok(());
        }
        *presence = Some(
            self.inner
                .store
                .leases()
                .announce(&self.inner.scheduler.lease.worker)?,
        );
        owners().insert(self.inner.scheduler.lease.worker.clone(), true);
        drop(presence);
        let every = (self.inner.scheduler.lease.duration / 3)
            .clamp(Duration::from_millis(10), Duration::from_secs(10));
        let inner = Arc::downgrade(&self.inner);
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| RuntimeError::Store(StoreError::Closed))?;
        let keeper = std::thread::Builder::new()
            .name("workflow-keeper".to_owned())
            .spawn(move || keep(&inner, &handle, every));
        if let Err(error) = keeper {
            tracing::error!(%error, "the keeper thread could not start; call `recover` to take over executions");
        }
        Ok(())
    }

    /// Marks this runtime's ownership ended: other runtimes take its executions over at once.
    pub(super) fn give_up_ownership(&self) {
        owners().insert(self.inner.scheduler.lease.worker.clone(), false);
        self.inner
            .scheduler
            .presence
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// One round of the keeper: renew, then claim what is free.
    async fn keep_round(&self) {
        self.renew_round().await;
        if let Err(error) = self.claim_round().await {
            tracing::warn!(%error, owner = %self.inner.scheduler.lease.worker, "claiming executions failed");
        }
    }

    /// Claims what this runtime has room for and resumes it.
    pub(super) async fn claim_round(&self) -> Result<Recovery, RuntimeError> {
        self.claim(None, false).await
    }

    /// Claims the executions `only` (all that are free, when `None`; parked ones before they
    /// are due too, with `early`) and resumes them.
    pub(super) async fn claim(
        &self,
        only: Option<Vec<ExecutionId>>,
        early: bool,
    ) -> Result<Recovery, RuntimeError> {
        let settings = &self.inner.scheduler.lease;
        if self.accepting().is_err() {
            return Ok(Recovery::default());
        }
        self.keep_executions()?;
        self.record_definitions().await?;
        let running: Vec<ExecutionId> = self
            .inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        let room = settings.capacity.saturating_sub(running.len());
        if room == 0 {
            return Ok(Recovery::default());
        }
        let workflows = self.workflow_names();
        let gone = self.gone_owners(&workflows).await?;
        let now = self.inner.clock.now();
        let mut request = ClaimRequest::new(
            &settings.worker,
            workflows,
            now + settings.duration,
            now,
            room,
        );
        request.versions = self.registered_versions();
        request.skip = running;
        request.only = only;
        request.gone = gone;
        request.early = early;
        let claims = self.inner.store.leases().claim(request).await?;
        // Several at once: each needs two reads before it runs, and a claim may bring
        // thousands.
        let outcomes: Vec<Result<(ExecutionId, Resumption), RuntimeError>> =
            futures_util::stream::iter(claims)
                .map(|claim| self.resume_claimed(claim))
                .buffer_unordered(RESUMING_AT_ONCE)
                .collect()
                .await;
        let mut recovery = Recovery::default();
        for outcome in outcomes {
            match outcome? {
                (id, Resumption::Resumed) => recovery.resumed.push(id),
                (_, Resumption::NotHere) => {}
                (id, Resumption::Unreadable(reason)) => recovery.unreadable.push((id, reason)),
            }
        }
        Ok(recovery)
    }

    /// The other owners of running executions of `workflows` that are known to be gone.
    async fn gone_owners(&self, workflows: &[String]) -> Result<Vec<String>, RuntimeError> {
        let listed = self.inner.store.leases().owners(workflows).await?;
        Ok(listed
            .into_iter()
            .filter(|owner| *owner != self.inner.scheduler.lease.worker)
            .filter(|owner| {
                let known = owners().get(owner).copied();
                match known {
                    Some(alive) => !alive,
                    None => self.inner.store.leases().liveness(owner) == Liveness::Gone,
                }
            })
            .collect())
    }

    /// Reads a claimed execution and runs it here under its lease.
    async fn resume_claimed(
        &self,
        claim: Claim,
    ) -> Result<(ExecutionId, Resumption), RuntimeError> {
        let fence = Fence {
            worker: self.inner.scheduler.lease.worker.clone(),
            token: claim.token,
        };
        let record = self.describe(&claim.id).await?;
        if let Some(reason) = record.unreadable {
            tracing::error!(execution = %claim.id, %reason, "a claimed execution cannot be read; it is left as it is");
            return Ok((claim.id, Resumption::Unreadable(reason)));
        }
        let resumed = self.resume_stored(record, fence).await?;
        Ok((claim.id, resumed))
    }

    /// Renews the leases of what runs here; executions it no longer holds stop here at once.
    ///
    /// Only the runs it asked about can be lost: an execution that started (or resumed)
    /// while the renewal was under way was not in it, and its lease is new.
    pub(super) async fn renew_round(&self) {
        let settings = &self.inner.scheduler.lease;
        let until = self.inner.clock.now() + settings.duration;
        let asked = self.runs();
        if asked.is_empty() {
            return;
        }
        let ids = asked.iter().map(|(id, _)| id.clone()).collect();
        let held: HashSet<ExecutionId> = match self
            .inner
            .store
            .leases()
            .renew(&settings.worker, ids, until)
            .await
        {
            Ok(held) => held.into_iter().collect(),
            Err(error) => {
                tracing::warn!(%error, owner = %settings.worker, "renewing leases failed");
                return;
            }
        };
        let lost = asked.into_iter().filter(|(id, _)| !held.contains(id));
        for id in self.abort_runs(lost) {
            tracing::warn!(execution = %id, owner = %settings.worker, "lost the lease; it is someone else's now");
        }
    }
}

/// The keeper: every `every`, in real time, renews and claims for the runtime, until it is
/// dropped or shut down.
fn keep(inner: &Weak<Inner>, handle: &tokio::runtime::Handle, every: Duration) {
    loop {
        std::thread::sleep(every);
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if inner.scheduler.shut_down.load(Ordering::Relaxed) {
            return;
        }
        let runtime = Runtime { inner };
        // Waits for the round, so that rounds never overlap.
        let (done, finished) = std::sync::mpsc::channel();
        drop(handle.spawn(async move {
            runtime.keep_round().await;
            let _ = done.send(());
        }));
        if finished.recv().is_err() {
            // The tokio runtime is gone.
            return;
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let scheduler = &mut self.scheduler;
        if scheduler
            .presence
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
        {
            owners().insert(scheduler.lease.worker.clone(), false);
        }
    }
}
