//! Running stored executions here: recovered, claimed, woken or redriven ones resume by
//! replay of their history, new ones start from their first event.

use std::sync::Arc;

use super::admission::Admitted;

use super::event_log::FencedLog;
use super::policy::{Policy, Run};
use super::running::RunEnd;
use super::{Runtime, RuntimeError};
use crate::engine::journal::{retrying, Halt, Halted, Journal, Parking};
use crate::engine::recorder::Recorder;
use crate::engine::Machine;
use crate::engine::{self, ExecutionContext, Shared};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::history::{Event, EventType};
use crate::step::States;
use crate::store::{ErrorSource, ExecutionEnd, ExecutionRecord, Fence, StoreError};
use workflow_core::definition::Definition;

/// Resumes an unfinished execution of one registered workflow (its definition given) from its
/// record and history.
pub(super) type Resume = fn(
    &Runtime,
    &'static Definition,
    ExecutionRecord,
    Vec<Event>,
    Fence,
) -> Result<(), RuntimeError>;

impl Runtime {
    /// Runs a stored execution here from its history, under `fence` (the lease this runtime
    /// holds on it), on the version of its workflow it started on. One of a workflow or
    /// version this runtime does not know stays as it is (it is reported); one whose
    /// stored data does not read stays as it is too; one whose data reads but no longer fits
    /// the workflow fails with `States.Runtime`. Both are reported as unreadable.
    pub(super) async fn resume_stored(
        &self,
        record: ExecutionRecord,
        fence: Fence,
    ) -> Result<Resumption, RuntimeError> {
        let Some((resume, definition)) = self
            .inner
            .workflows
            .version(&record.workflow, record.version)
            .map(|registered| (registered.resume, registered.definition))
        else {
            // Claims take only registered versions; a store that claimed another is answered
            // by leaving the execution as it is, for a process that has its version.
            if self.has_workflow(&record.workflow) {
                tracing::warn!(
                    execution = %record.id,
                    workflow = %record.workflow,
                    version = record.version,
                    "an execution runs on a version of its workflow this process does not have; it is left as it is, for a process that has it"
                );
            }
            return Ok(Resumption::NotHere);
        };
        let id = record.id.clone();
        let events = match self.full_history(&id).await {
            Ok(events) => events,
            Err(RuntimeError::Store(StoreError::Corrupt { reason, .. })) => {
                tracing::error!(execution = %id, %reason, "an execution's history cannot be read; it is left as it is");
                return Ok(Resumption::Unreadable(reason));
            }
            Err(error) => return Err(error),
        };
        match resume(self, definition, record, events, fence.clone()) {
            Ok(()) => Ok(Resumption::Resumed),
            Err(error) => {
                self.fail_unreadable(&id, &error, &fence).await?;
                Ok(Resumption::Unreadable(error.to_string()))
            }
        }
    }

    /// Runs a Standard execution of `definition` (machine `M`) in the background from its
    /// stored history.
    pub(super) fn spawn<M: Machine>(&self, definition: &'static Definition, run: Run<M::Input>) {
        let Run {
            id,
            input,
            started_at,
            stored,
            change,
            fence,
            permit: _,
        } = run;
        let parking = self.inner.scheduler.lease.park_after.map(|after| {
            self.ensure_alarm_loop();
            Parking {
                after,
                alarms: Arc::clone(&self.inner.scheduler.alarms)
                    as Arc<dyn crate::engine::journal::Alarms>,
            }
        });
        let halt = Arc::new(Halt::default());
        let journal = Journal {
            log: Arc::new(FencedLog {
                store: Arc::clone(&self.inner.store),
                execution: id.clone(),
                fence,
            }),
            execution: id.clone(),
            parking,
            patience: self.inner.patience,
            clock: Arc::clone(&self.inner.clock),
            halt: Arc::clone(&halt),
        };
        let shared = Shared::with_recorder(
            id.clone(),
            definition,
            Arc::clone(&self.inner.resources),
            Arc::clone(&self.inner.clock),
            started_at,
            match change {
                Some(change) => {
                    Recorder::durable(journal, stored, self.inner.limits.history_events)
                        .changed_definition(change)
                }
                None => Recorder::durable(journal, stored, self.inner.limits.history_events),
            },
            self.inner.limits,
        );
        self.run_in_background(id, async move {
            let root = ExecutionContext::root(&shared);
            // Pinned where it is made: moved into `select!`, it would take its size twice in
            // this task, for as long as the execution runs.
            let run = std::pin::pin!(engine::drive_with_timeout(
                &root,
                input,
                engine::machine_run::<M>()
            ));
            // A run that halts (parked, lost, or its store failing) stops here; the execution
            // goes on from what is recorded.
            tokio::select! {
                _ = run => RunEnd::Ended,
                why = halt.halted() => RunEnd::Halted(why),
            }
        });
    }

    /// Runs an Express execution of `definition` (machine `M`) in the background, in memory,
    /// logging to the sink: only its end is written to the store. After a crash it runs again
    /// from the start (at least once). Without a `permit`, it waits for one. Its lease is
    /// renewed while it runs.
    pub(super) fn spawn_express<M: Machine>(
        &self,
        definition: &'static Definition,
        id: ExecutionId,
        input: M::Input,
        permit: Option<Admitted>,
    ) {
        let runtime = self.clone();
        let store = Arc::clone(&self.inner.store);
        let execution = id.clone();
        self.run_in_background(id, async move {
            let _permit = match permit {
                Some(permit) => permit,
                None => match Policy::Express.admit(&runtime).await {
                    Ok(Some(permit)) => permit,
                    Ok(None) | Err(_) => return RunEnd::Ended,
                },
            };
            let mut shared = Shared::new(
                execution.clone(),
                definition,
                Arc::clone(&runtime.inner.resources),
                Arc::clone(&runtime.inner.clock),
                runtime.inner.limits,
            );
            Policy::Express.observe(&runtime, &mut shared, definition.name.as_str());
            let (result, status) = engine::drive_with_timeout(&ExecutionContext::root(&shared), input, engine::machine_run::<M>()).await;
            let (history, _) = shared.into_parts();
            // The stored history holds the start and the end; the rest went to the log sink.
            let Some(last) = history.events().last() else { return RunEnd::Ended };
            let end_event = last.as_express_end();
            let end = ExecutionEnd::of(last, status).in_state(result.as_ref().err());
            let clock = Arc::clone(&runtime.inner.clock);
            let saved = retrying(&clock, runtime.inner.patience, "saving an Express execution's end", || {
                store.append(&execution, std::slice::from_ref(&end_event), Some(end.clone()))
            })
            .await;
            match saved {
                Ok(()) => RunEnd::Ended,
                Err(error) => {
                    // At least once: it runs again from its start when it is recovered.
                    tracing::error!(execution = %execution, %error, "the end of an Express execution could not be saved");
                    RunEnd::Halted(Halted::after(error))
                }
            }
        });
    }

    /// Ends an execution whose stored data cannot be read with `States.Runtime`.
    pub(super) async fn fail_unreadable(
        &self,
        id: &ExecutionId,
        error: &RuntimeError,
        fence: &Fence,
    ) -> Result<(), RuntimeError> {
        let now = self.inner.clock.now();
        let cause = format!("the execution cannot resume: {error}");
        tracing::error!(execution = %id, %cause, "execution failed on recovery");
        let last = self
            .inner
            .store
            .full_history(id)
            .await
            .ok()
            .and_then(|events| events.last().map(|event| event.id));
        let failed = Event::following(last.unwrap_or(0), now, EventType::ExecutionFailed)
            .with_failure(Some(States::Runtime.name().to_owned()), Some(cause));
        let end = ExecutionEnd::of(&failed, ExecutionStatus::Failed);
        // A history that cannot be read gets no event: only the record ends.
        let events: Vec<Event> = last.map(|_| failed).into_iter().collect();
        let written = self
            .inner
            .store
            .leases()
            .append_fenced(id, fence, &events, Some(end))
            .await;
        match written {
            // Someone else's now, or ended meanwhile: nothing to fail.
            Ok(()) | Err(StoreError::LeaseLost { .. } | StoreError::Conflict { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

/// What became of a stored execution to resume.
pub(super) enum Resumption {
    /// It runs here.
    Resumed,
    /// Its workflow, or the version of it the execution runs on, is not registered here.
    NotHere,
    /// Its stored data cannot be read, or no longer fits its workflow: why.
    Unreadable(String),
}

/// Resumes an unfinished execution of `definition`, run by machine `M`.
pub(super) fn resume<M: Machine>(
    runtime: &Runtime,
    definition: &'static Definition,
    record: ExecutionRecord,
    events: Vec<Event>,
    fence: Fence,
) -> Result<(), RuntimeError> {
    let current = runtime.fingerprint_of(definition);
    let change = (!record.fingerprint.is_empty() && record.fingerprint != current).then(|| {
        tracing::warn!(
            execution = %record.id,
            workflow = %record.workflow,
            started_with = %record.fingerprint,
            now = %current,
            "the workflow's definition changed since this execution started; it resumes if its history still fits"
        );
        format!(
            "workflow `{}` changed since the execution started (definition {} then, {current} now)",
            record.workflow, record.fingerprint
        )
    });
    let input: M::Input =
        serde_json::from_value(record.input).map_err(|error| RuntimeError::Payload {
            message: format!(
                "its stored input does not read as `{}`: {error}",
                std::any::type_name::<M::Input>()
            ),
            source: Some(ErrorSource::new(error)),
        })?;
    // A redriven execution's timeout counts from its latest redrive.
    let started_at = events
        .iter()
        .rev()
        .find(|event| event.kind == EventType::ExecutionRedriven)
        .map_or(record.started_at, |redriven| redriven.timestamp);
    let run = Run {
        id: record.id,
        input,
        started_at,
        stored: events,
        change,
        fence,
        permit: None,
    };
    // At least once: an Express execution that did not finish runs again from its start.
    Policy::of(definition).run::<M>(runtime, definition, run);
    Ok(())
}
