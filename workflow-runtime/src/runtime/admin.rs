//! Administering executions: recover them after a restart, stop, redrive and purge them, and
//! shut the runtime down.

use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use super::policy::Policy;
use super::{ExecutionHandle, Runtime, RuntimeError};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::history::{Event, EventType};
use crate::names::failure_problem;
use crate::store::{ExecutionEnd, ExecutionFilter, ExecutionRecord, StoreError};
use crate::workflow::Workflow;

/// How many times a stop is tried when the execution's history grows under it.
const STOP_TRIES: usize = 20;

impl Runtime {
    /// Takes over every unfinished durable execution of the registered workflows whose owner
    /// is gone (after a restart: a runtime whose process ended, one that shut down, or one
    /// whose lease ran out) and resumes it here, as this runtime's keeper does by itself every
    /// few seconds; executions a live runtime runs are left to it. Each replays its history:
    /// finished tasks are not run again, a task that had started without a recorded outcome
    /// fails with `States.TaskFailed`, and timers fire when they were due.
    ///
    /// An execution whose stored data cannot be read is reported in
    /// [`Recovery::unreadable`](super::Recovery::unreadable); the others resume regardless.
    /// Only executions of the registered versions of the workflows are taken; those of other
    /// versions are counted in [`Recovery::elsewhere`](super::Recovery::elsewhere).
    pub async fn recover(&self) -> Result<super::Recovery, RuntimeError> {
        // Parked ones too: they park again here, and this runtime wakes them when due.
        let mut recovery = self.claim(None, true).await?;
        // Those whose status does not read are never claimed: they are reported all the same.
        let unknown = self
            .inner
            .store
            .list(ExecutionFilter::all().status(ExecutionStatus::Unknown))
            .await?;
        recovery.unreadable.extend(
            unknown
                .into_iter()
                .filter(|record| record.workflow.is_empty() || self.has_workflow(&record.workflow))
                .map(|record| (record.id, record.unreadable.unwrap_or_default())),
        );
        // Executions of versions this runtime lacks are not claimed: they are reported.
        let open = self
            .inner
            .store
            .leases()
            .open_versions(&self.workflow_names())
            .await?;
        recovery.elsewhere = open
            .into_iter()
            .filter(|open| {
                self.inner
                    .workflows
                    .version(&open.workflow, open.version)
                    .is_none()
            })
            .collect();
        for open in &recovery.elsewhere {
            tracing::warn!(
                workflow = %open.workflow,
                version = open.version,
                executions = open.executions,
                "running executions are on a version of their workflow this runtime does not have; they are left for a runtime that has it"
            );
        }
        Ok(recovery)
    }

    /// Stops every durable execution running in this process at once, as a crash would: no
    /// further event is recorded, and [`recover`](Self::recover) (here or in another runtime on
    /// the same store) resumes them from what the store holds.
    pub fn shutdown(&self) {
        if let Some(worker) = self
            .inner
            .scheduler
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            worker.abort();
        }
        if let Some(alarm_loop) = self
            .inner
            .scheduler
            .alarm_loop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            alarm_loop.abort();
        }
        self.inner.scheduler.alarms.clear();
        self.inner
            .scheduler
            .shut_down
            .store(true, Ordering::Relaxed);
        // Other runtimes take its executions over at once.
        self.give_up_ownership();
        let tasks: Vec<_> = self
            .inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, execution)| execution.task)
            .collect();
        for task in tasks {
            task.abort();
        }
    }

    /// Stops (aborts) a running durable execution: its running step is cancelled and the
    /// history ends with ExecutionAborted, carrying `error` and `cause` if given. The end is
    /// written only if the execution is still running, in the same transaction: a stop that
    /// comes after the execution ended (even by a moment) is [`RuntimeError::NotRunning`], and
    /// the end stands.
    pub async fn stop(
        &self,
        id: &ExecutionId,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), RuntimeError> {
        if let Some(reason) = failure_problem(error.unwrap_or_default(), cause.unwrap_or_default())
        {
            return Err(RuntimeError::InvalidArgument { reason });
        }
        let record = self.describe(id).await?;
        if record.status != ExecutionStatus::Running {
            return Err(RuntimeError::NotRunning {
                id: id.to_string(),
                status: record.status,
            });
        }
        // Its run in this process stops first, so that it records nothing more from here.
        let running = self
            .inner
            .scheduler
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        if let Some(mut running) = running {
            running.task.abort();
            // The task's end closes the channel.
            while running.done.changed().await.is_ok() {}
        }
        self.inner.scheduler.alarms.remove(id);
        // Its owner (here, or another runtime) may append meanwhile: the abort then does not
        // follow the stored history, and is made again after the new events.
        for _ in 0..STOP_TRIES {
            let last = self
                .full_history(id)
                .await?
                .last()
                .map_or(0, |event| event.id);
            let now = self.inner.clock.now();
            let aborted = Event::following(last, now, EventType::ExecutionAborted)
                .with_failure(error.map(str::to_owned), cause.map(str::to_owned));
            let end = ExecutionEnd::of(&aborted, ExecutionStatus::Aborted);
            match self.inner.store.append(id, &[aborted], Some(end)).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict { .. }) => {
                    let record = self.describe(id).await?;
                    if record.status != ExecutionStatus::Running {
                        return Err(RuntimeError::NotRunning {
                            id: id.to_string(),
                            status: record.status,
                        });
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(RuntimeError::Store(StoreError::Conflict {
            execution: id.to_string(),
            reason: format!(
                "its history kept growing while it was being stopped ({STOP_TRIES} tries)"
            ),
        }))
    }

    /// Redrives an execution that failed, timed out or was stopped: it runs again from the
    /// states that did not finish, with the same id, after an ExecutionRedriven event. States
    /// that had finished are not run again (inside a Parallel or Map state, only the branches
    /// and iterations that had not finished run again); retriers count afresh, and the
    /// execution's timeout counts from the redrive. Returns a handle to await the new end.
    ///
    /// The execution must be of `W` ([`RuntimeError::OtherWorkflow`] otherwise).
    pub async fn redrive<W: Workflow>(
        &self,
        id: &ExecutionId,
    ) -> Result<ExecutionHandle<W::Output>, RuntimeError> {
        let record = self.describe(id).await?;
        if record.workflow != W::name() {
            return Err(RuntimeError::OtherWorkflow {
                id: id.to_string(),
                expected: W::name().to_owned(),
                actual: record.workflow,
            });
        }
        self.redrive_record(id, record).await?;
        Ok(self.handle_of(id.clone()))
    }

    /// Redrives the execution `id`, of whichever workflow (a request from the CLI or the
    /// console names no type).
    pub(crate) async fn redrive_any(&self, id: &ExecutionId) -> Result<(), RuntimeError> {
        let record = self.describe(id).await?;
        self.redrive_record(id, record).await
    }

    /// [`redrive`](Self::redrive) of the execution `id`, read as `record`.
    async fn redrive_record(
        &self,
        id: &ExecutionId,
        record: ExecutionRecord,
    ) -> Result<(), RuntimeError> {
        if matches!(
            record.status,
            ExecutionStatus::Running | ExecutionStatus::Succeeded
        ) {
            return Err(RuntimeError::NotRedrivable {
                id: id.to_string(),
                status: record.status,
            });
        }
        let registered = self
            .inner
            .workflows
            .version(&record.workflow, record.version)
            .ok_or_else(|| RuntimeError::VersionNotRegistered {
                workflow: record.workflow.clone(),
                version: record.version,
            })?;
        if !Policy::of(registered.definition).redrivable() {
            return Err(RuntimeError::NotRedrivable {
                id: id.to_string(),
                status: record.status,
            });
        }
        let events = self.full_history(id).await?;
        let last = events.last().map_or(0, |event| event.id);
        let now = self.inner.clock.now();
        let redriven = Event::following(last, now, EventType::ExecutionRedriven);
        match self.inner.store.reopen(id, &[redriven]).await {
            Ok(()) => {}
            // Redriven (or changed) by someone else since it was read.
            Err(StoreError::Conflict { .. }) => {
                return Err(RuntimeError::NotRedrivable {
                    id: id.to_string(),
                    status: self.describe(id).await?.status,
                })
            }
            Err(error) => return Err(error.into()),
        }
        // Reopened without an owner: this runtime claims it (unless another got it first).
        let recovery = self.claim(Some(vec![id.clone()]), false).await?;
        if let Some((_, reason)) = recovery.unreadable.into_iter().next() {
            return Err(RuntimeError::Payload {
                message: reason,
                source: None,
            });
        }
        Ok(())
    }

    /// Deletes the executions that ended before `ended_before`, with their histories, and
    /// returns how many. Running executions are kept.
    pub async fn purge(&self, ended_before: std::time::SystemTime) -> Result<usize, RuntimeError> {
        Ok(self.inner.store.purge(ended_before).await?)
    }

    /// Deletes the executions that ended longer ago than the retention period (90 days by
    /// default; see [`RuntimeBuilder::retention`](super::RuntimeBuilder::retention)).
    pub async fn purge_expired(&self) -> Result<usize, RuntimeError> {
        let now = self.inner.clock.now();
        let before = now
            .checked_sub(self.inner.retention)
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        self.purge(before).await
    }
}
