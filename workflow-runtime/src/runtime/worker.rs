//! Several workers sharing one store: each execution is advanced by the worker holding its
//! lease. A worker claims executions no live worker holds (new submissions, and those of a
//! worker that died and stopped renewing), renews its leases, and gives up at once any
//! execution whose lease it lost. Every append carries the lease's token, so a worker that
//! lost a lease (paused, partitioned) can write nothing more to that execution: the new
//! holder replays the history, and a task the old one had started without a recorded outcome
//! fails with `States.TaskFailed` exactly as after a crash.

use std::collections::HashSet;
use std::sync::PoisonError;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Runtime, RuntimeError};
use crate::execution::ExecutionId;
use crate::store::{Claim, Fence, RequestKind, StoreError};
use crate::workflow::Workflow;

/// How often a runtime that is not a worker looks for requests.
const REQUESTS_POLL: Duration = Duration::from_secs(1);

/// How many requests a runtime takes at once.
const REQUESTS_AT_ONCE: usize = 100;

/// How many claimed executions are read and resumed at once.
const RESUMING_AT_ONCE: usize = 64;

/// How this runtime works as one of several workers.
#[derive(Debug, Clone)]
pub(super) struct LeaseSettings {
    /// This worker's name, unique among the workers.
    pub(super) worker: String,
    /// How long a lease lasts without renewal.
    pub(super) duration: Duration,
    /// How often the worker looks for executions to claim.
    pub(super) poll: Duration,
    /// How many executions it runs at once at most.
    pub(super) capacity: usize,
    /// Waits (Wait states, retry intervals) longer than this give the lease up until they end.
    pub(super) park_after: Duration,
}

/// The worker loop of a runtime; it stops when dropped, or when the runtime shuts down.
#[derive(Debug)]
#[must_use = "the worker stops when this is dropped"]
pub struct Worker {
    task: tokio::task::AbortHandle,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Runtime {
    /// Takes part in the work shared through the store, until the returned [`Worker`] is
    /// dropped. Every runtime carries out the stop and redrive requests that tools (the
    /// `workflow` command, the console) leave for its workflows. A runtime configured with
    /// [`RuntimeBuilder::lease`] is also a worker among several: it claims executions that no
    /// live worker holds, renews its leases a few times per lease period, and lets go of any
    /// it lost (stores with leases: PostgreSQL, SQLite, memory). Call within a tokio runtime.
    ///
    /// [`RuntimeBuilder::lease`]: super::RuntimeBuilder::lease
    pub fn serve(&self) -> Result<Worker, RuntimeError> {
        let settings = self.inner.lease.clone();
        let runtime = self.clone();
        let task = tokio::spawn(async move {
            let clock = std::sync::Arc::clone(&runtime.inner.clock);
            let mut renewed_at = clock.now();
            loop {
                if let Some(settings) = &settings {
                    let now = clock.now();
                    if now.duration_since(renewed_at).unwrap_or_default() >= settings.duration / 3 {
                        runtime.renew_round().await;
                        renewed_at = now;
                    }
                    if let Err(error) = runtime.claim_round().await {
                        tracing::warn!(%error, worker = %settings.worker, "claiming executions failed");
                    }
                }
                runtime.carry_out_requests().await;
                let poll = settings
                    .as_ref()
                    .map_or(REQUESTS_POLL, |settings| settings.poll);
                clock.sleep(poll).await;
            }
        });
        let abort = task.abort_handle();
        *self
            .inner
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(abort.clone());
        Ok(Worker { task: abort })
    }

    /// Creates a durable execution of `W` named `name` for whichever worker claims it first,
    /// without running it here.
    pub async fn submit<W: Workflow>(
        &self,
        name: &str,
        input: W::Input,
    ) -> Result<super::ExecutionHandle<W::Output>, RuntimeError> {
        self.create::<W>(name, input, false).await
    }

    /// This worker's name (when it is configured as one).
    pub fn worker_name(&self) -> Option<&str> {
        self.inner
            .lease
            .as_ref()
            .map(|settings| settings.worker.as_str())
    }

    fn lease_settings(&self) -> Result<&LeaseSettings, RuntimeError> {
        self.inner.lease.as_ref().ok_or(RuntimeError::NotAWorker)
    }

    /// Claims what this worker has room for and resumes it; the ids it resumed.
    pub(super) async fn claim_round(&self) -> Result<Vec<ExecutionId>, RuntimeError> {
        let settings = self.lease_settings()?;
        self.record_definitions().await?;
        let running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        let room = settings.capacity.saturating_sub(running);
        if room == 0 {
            return Ok(Vec::new());
        }
        let workflows: Vec<String> = self
            .inner
            .workflows
            .values()
            .map(|registered| registered.definition.name.clone())
            .collect();
        let now = self.inner.clock.now();
        let claims = self
            .inner
            .store
            .claim(
                &settings.worker,
                &workflows,
                now + settings.duration,
                now,
                room,
            )
            .await?;
        // Several at once: each needs two reads before it runs, and a claim may bring
        // thousands.
        let outcomes: Vec<Result<Option<ExecutionId>, RuntimeError>> =
            futures_util::stream::iter(claims)
                .map(|claim| self.resume_claimed(settings, claim))
                .buffer_unordered(RESUMING_AT_ONCE)
                .collect()
                .await;
        let mut resumed = Vec::new();
        for outcome in outcomes {
            resumed.extend(outcome?);
        }
        Ok(resumed)
    }

    /// Reads a claimed execution and runs it here under its lease; its id if it runs.
    async fn resume_claimed(
        &self,
        settings: &LeaseSettings,
        claim: Claim,
    ) -> Result<Option<ExecutionId>, RuntimeError> {
        let fence = Fence {
            worker: settings.worker.clone(),
            token: claim.token,
        };
        let record = self.describe(&claim.id).await?;
        let resumed = self.resume_stored(record, Some(fence)).await?;
        Ok(resumed.then_some(claim.id))
    }

    /// Carries out the pending stop and redrive requests for this runtime's workflows, and
    /// records how each went.
    async fn carry_out_requests(&self) {
        let workflows: Vec<String> = self
            .inner
            .workflows
            .values()
            .map(|registered| registered.definition.name.clone())
            .collect();
        let requests = match self
            .inner
            .store
            .take_requests(&workflows, REQUESTS_AT_ONCE)
            .await
        {
            Ok(requests) => requests,
            Err(StoreError::Unsupported(_)) => return,
            Err(error) => {
                tracing::warn!(%error, "taking requests failed");
                return;
            }
        };
        for request in requests {
            let outcome = match &request.kind {
                RequestKind::Stop { error, cause } => {
                    self.stop(&request.execution, error.as_deref(), cause.as_deref())
                        .await
                }
                RequestKind::Redrive => self
                    .redrive::<serde_json::Value>(&request.execution)
                    .await
                    .map(drop),
            };
            let outcome = outcome.map_err(|error| error.to_string());
            if let Err(error) = self.inner.store.finish_request(request.id, outcome).await {
                tracing::warn!(%error, request = request.id, "recording a request's outcome failed");
            }
        }
    }

    /// Renews this worker's leases; executions it no longer holds stop here at once.
    async fn renew_round(&self) {
        let Ok(settings) = self.lease_settings() else {
            return;
        };
        let until = self.inner.clock.now() + settings.duration;
        // Only what runs here: an execution whose task ended without ending it (its store
        // failed) must not stay leased to a live worker forever.
        let running: Vec<ExecutionId> = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, execution)| execution.leased)
            .map(|(id, _)| id.clone())
            .collect();
        if running.is_empty() {
            return;
        }
        let held: HashSet<ExecutionId> = match self
            .inner
            .store
            .renew(&settings.worker, running, until)
            .await
        {
            Ok(held) => held.into_iter().collect(),
            Err(error) => {
                tracing::warn!(%error, worker = %settings.worker, "renewing leases failed");
                return;
            }
        };
        let mut running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let lost: Vec<ExecutionId> = running
            .iter()
            .filter(|(id, execution)| execution.leased && !held.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in lost {
            if let Some(execution) = running.remove(&id) {
                tracing::warn!(execution = %id, worker = %settings.worker, "lost the lease; another worker runs it now");
                execution.task.abort();
            }
        }
    }
}
