//! Several workers sharing one store: each execution is advanced by the worker holding its
//! lease. A worker claims executions no live worker holds (new submissions, and those of a
//! worker that died and stopped renewing), renews its leases, and gives up at once any
//! execution whose lease it lost. Every append carries the lease's token, so a worker that
//! lost a lease (paused, partitioned) can write nothing more to that execution: the new
//! holder replays the history, and a task the old one had started without a recorded outcome
//! fails with `States.TaskFailed` exactly as after a crash.

use std::sync::PoisonError;
use std::time::Duration;

use super::{Runtime, RuntimeError};
use crate::store::RequestKind;

/// How often a runtime that is not a worker looks for requests.
const REQUESTS_POLL: Duration = Duration::from_secs(1);

/// How many requests a runtime takes at once.
const REQUESTS_AT_ONCE: usize = 100;

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
        self.keep_executions()?;
        let runtime = self.clone();
        let task = tokio::spawn(async move {
            let settings = runtime.inner.scheduler.lease.clone();
            let clock = std::sync::Arc::clone(&runtime.inner.clock);
            let mut renewed_at = clock.now();
            loop {
                if settings.configured {
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
                let poll = if settings.configured {
                    settings.poll
                } else {
                    REQUESTS_POLL
                };
                clock.sleep(poll).await;
            }
        });
        let abort = task.abort_handle();
        *self
            .inner
            .scheduler
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(abort.clone());
        Ok(Worker { task: abort })
    }

    /// Carries out the pending stop and redrive requests for this runtime's workflows, and
    /// records how each went.
    async fn carry_out_requests(&self) {
        let Some(store) = self.inner.store.requests() else {
            return;
        };
        let workflows = self.workflow_names();
        let requests = match store.take_requests(&workflows, REQUESTS_AT_ONCE).await {
            Ok(requests) => requests,
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
                RequestKind::Redrive => self.redrive_any(&request.execution).await,
            };
            let outcome = outcome.map_err(|error| error.to_string());
            if let Err(error) = store.finish_request(request.id, outcome).await {
                tracing::warn!(%error, request = request.id, "recording a request's outcome failed");
            }
        }
    }
}
