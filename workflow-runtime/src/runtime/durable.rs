//! Durable executions: created in the store, run in the background, awaited by handle, and
//! resumed after a restart.

use std::marker::PhantomData;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use std::sync::atomic::Ordering;

use tokio::sync::OwnedSemaphorePermit;

use super::running::RunEnd;
use super::{Runtime, RuntimeError};
use crate::engine::journal::{retrying, Halt, Halted, Journal, Parking};
use crate::engine::payload::Measure;
use crate::engine::recorder::Recorder;
use crate::engine::{self, ExecutionContext, Shared};
use crate::execution::{ExecutionFailure, ExecutionId, ExecutionStatus};
use crate::history::{Event, EventType};
use crate::names::{failure_problem, name_problem};
use crate::step::{Payload, States};
use crate::store::{
    Created, ExecutionEnd, ExecutionFilter, ExecutionRecord, Fence, Lease, NewExecution,
    StoreError, StoredDefinition,
};
use crate::workflow::Workflow;
use workflow_core::Mode;

/// Resumes an unfinished execution of one registered workflow from its record and history.
pub(super) type Resume =
    fn(&Runtime, ExecutionRecord, Vec<Event>, Option<Fence>) -> Result<(), RuntimeError>;

/// How many events a page of history holds when the runtime reads a whole history.
const PAGE: usize = 1000;

/// How many times a stop is tried when the execution's history grows under it.
const STOP_TRIES: usize = 20;

/// A durable execution: its id, and its result once it ends.
#[derive(Debug, Clone)]
pub struct ExecutionHandle<O> {
    id: ExecutionId,
    runtime: Runtime,
    output: PhantomData<fn() -> O>,
}

impl<O: Payload> ExecutionHandle<O> {
    /// The execution's id.
    pub fn id(&self) -> &ExecutionId {
        &self.id
    }

    /// Waits for the execution to end and returns its output, or why it has none.
    ///
    /// Completes only once the end is durable. An execution running in another process (or
    /// parked by a worker) is followed by polling the store, at most once a second.
    pub async fn result(&self) -> Result<Result<O, ExecutionFailure>, RuntimeError> {
        // Polling an execution that runs elsewhere: often at first, then once a second.
        let mut pause = Duration::from_millis(50);
        loop {
            // While it runs here, its run says when it ends (or why it stopped without ending).
            match self.runtime.run_end(&self.id).await {
                Some(RunEnd::Halted(Halted::StoreFailed(error))) => {
                    return Err(RuntimeError::Store(error))
                }
                Some(RunEnd::ShutDown) => return Err(RuntimeError::ShutDown),
                _ => {}
            }
            if self.runtime.inner.shut_down.load(Ordering::Relaxed) {
                return Err(RuntimeError::ShutDown);
            }
            let record = self.runtime.describe(&self.id).await?;
            if let Some(reason) = record.unreadable {
                return Err(RuntimeError::Store(StoreError::Corrupt {
                    execution: self.id.to_string(),
                    reason,
                }));
            }
            match record.status {
                ExecutionStatus::Running => {
                    if !self.runtime.is_running(&self.id) {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                    }
                }
                ExecutionStatus::Succeeded => {
                    let output = record.output.unwrap_or(serde_json::Value::Null);
                    return serde_json::from_value(output).map(Ok).map_err(|error| {
                        RuntimeError::Payload(format!(
                            "the output of execution `{}` does not read as `{}`: {error}",
                            self.id,
                            std::any::type_name::<O>()
                        ))
                    });
                }
                _ => {
                    return Ok(Err(ExecutionFailure::new(
                        None,
                        record.error.unwrap_or_default(),
                        record.cause.unwrap_or_default(),
                    )))
                }
            }
        }
    }
}

impl Runtime {
    /// Starts a durable execution of `W` with a generated name; it runs in the background and
    /// every event is in the store before the engine acts on it.
    pub async fn start<W: Workflow>(
        &self,
        input: W::Input,
    ) -> Result<ExecutionHandle<W::Output>, RuntimeError> {
        self.start_named::<W>(&uuid::Uuid::new_v4().to_string(), input)
            .await
    }

    /// Starts a durable execution named `name`, unique among `W`'s executions.
    ///
    /// Starting is idempotent: while an execution of that name runs with the same input, this
    /// returns it again. A different input, or an execution of that name that has ended, is
    /// [`RuntimeError::ExecutionAlreadyExists`]. Names have 1 to 80 characters, without
    /// whitespace, brackets, wildcards or control characters.
    pub async fn start_named<W: Workflow>(
        &self,
        name: &str,
        input: W::Input,
    ) -> Result<ExecutionHandle<W::Output>, RuntimeError> {
        self.create::<W>(name, input, true).await
    }

    /// Records the registered workflows' definitions in the store, once per runtime (on its
    /// first durable start, recovery or claim), so that tools can draw any workflow and
    /// execution without the code. Stores that keep no definitions are skipped.
    pub(super) async fn record_definitions(&self) -> Result<(), RuntimeError> {
        self.inner
            .definitions_recorded
            .get_or_try_init(|| async {
                let now = self.inner.clock.now();
                for registered in self.inner.workflows.values() {
                    let definition = StoredDefinition {
                        workflow: registered.definition.name.clone(),
                        fingerprint: registered.definition.fingerprint(),
                        definition: registered.definition.clone(),
                        registered_at: now,
                    };
                    match self.inner.store.save_definition(definition).await {
                        Ok(()) | Err(StoreError::Unsupported(_)) => {}
                        Err(error) => return Err(RuntimeError::Store(error)),
                    }
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// Creates an execution named `name`; with `run_here`, this process runs it (holding its
    /// lease when the runtime is a worker), otherwise whichever worker claims it does.
    pub(super) async fn create<W: Workflow>(
        &self,
        name: &str,
        input: W::Input,
        run_here: bool,
    ) -> Result<ExecutionHandle<W::Output>, RuntimeError> {
        self.registered::<W>()?;
        self.record_definitions().await?;
        if let Some(reason) = name_problem(name) {
            return Err(RuntimeError::InvalidName {
                name: name.to_owned(),
                reason,
            });
        }
        let json = self.storable_input::<W>(&input)?;
        // An Express start that cannot be accepted waits or is refused before it is written.
        let express = W::definition().mode == Mode::Express;
        let permit = if express {
            Some(self.express_permit().await?)
        } else {
            None
        };
        let now = self.inner.clock.now();
        let id = ExecutionId::random();
        let mut started = Event::new(1, 0, now, EventType::ExecutionStarted);
        started.input = Some(json.clone());
        // This runtime holds the lease of what it runs from the start: no one else claims it.
        if run_here {
            self.keep_executions()?;
        }
        let lease = run_here.then(|| Lease {
            worker: self.inner.lease.worker.clone(),
            token: 1,
            until: now + self.inner.lease.duration,
        });
        let fence = lease.as_ref().map(|lease| Fence {
            worker: lease.worker.clone(),
            token: lease.token,
        });
        let created = self
            .inner
            .store
            .create(NewExecution {
                id: id.clone(),
                name: name.to_owned(),
                workflow: W::name().to_owned(),
                input: json.clone(),
                fingerprint: W::definition().fingerprint(),
                started_at: now,
                events: vec![started.clone()],
                lease,
            })
            .await?;
        match created {
            Created::New if !run_here => Ok(self.handle(id)),
            Created::New if express => {
                self.spawn_express::<W>(id.clone(), input, permit, true);
                Ok(self.handle(id))
            }
            Created::New => {
                self.spawn::<W>(id.clone(), now, input, vec![started], None, fence);
                Ok(self.handle(id))
            }
            Created::Existing(existing)
                if existing.status == ExecutionStatus::Running && existing.input == json =>
            {
                Ok(self.handle(existing.id))
            }
            Created::Existing(existing) => Err(RuntimeError::ExecutionAlreadyExists {
                workflow: W::name().to_owned(),
                name: name.to_owned(),
                reason: if existing.status == ExecutionStatus::Running {
                    "running, with a different input".to_owned()
                } else {
                    format!("it has ended: {:?}", existing.status)
                },
            }),
        }
    }

    /// The input as JSON, if it can be stored so that it reads back: within the payload limit
    /// and nesting depth, and reading back as `W::Input`.
    fn storable_input<W: Workflow>(
        &self,
        input: &W::Input,
    ) -> Result<serde_json::Value, RuntimeError> {
        let refuse = |reason: String| RuntimeError::InvalidInput { reason };
        let measure =
            Measure::of(input).map_err(|error| refuse(format!("it has no JSON form: {error}")))?;
        if let Some(problem) = measure.problem(self.inner.limits.payload_bytes) {
            return Err(refuse(format!("it {problem}")));
        }
        let json = serde_json::to_value(input)
            .map_err(|error| refuse(format!("it has no JSON form: {error}")))?;
        serde_json::from_value::<W::Input>(json.clone()).map_err(|error| {
            refuse(format!(
                "it would not read back as `{}` once stored as JSON ({error}); a float that is NaN or infinite, for one, is stored as null",
                std::any::type_name::<W::Input>()
            ))
        })?;
        Ok(json)
    }

    /// A handle to the execution `id`, to await its result.
    pub fn handle<O>(&self, id: ExecutionId) -> ExecutionHandle<O> {
        ExecutionHandle {
            id,
            runtime: self.clone(),
            output: PhantomData,
        }
    }

    /// Takes over every unfinished durable execution of the registered workflows whose owner
    /// is gone (after a restart: a runtime whose process ended, one that shut down, or one
    /// whose lease ran out) and resumes it here, as this runtime's keeper does by itself every
    /// few seconds; executions a live runtime runs are left to it. Each replays its history:
    /// finished tasks are not run again, a task that had started without a recorded outcome
    /// fails with `States.TaskFailed`, and timers fire when they were due.
    ///
    /// An execution whose stored data cannot be read is reported in
    /// [`Recovery::unreadable`](super::Recovery::unreadable); the others resume regardless.
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
                .filter(|record| {
                    record.workflow.is_empty()
                        || self
                            .inner
                            .workflows
                            .values()
                            .any(|registered| registered.definition.name == record.workflow)
                })
                .map(|record| (record.id, record.unreadable.unwrap_or_default())),
        );
        Ok(recovery)
    }

    /// Runs a stored execution here from its history, under `fence` (the lease this runtime
    /// holds on it). One of a workflow this runtime does not know stays as it is; one whose
    /// stored data does not read stays as it is too; one whose data reads but no longer fits
    /// the workflow fails with `States.Runtime`. Both are reported as unreadable.
    pub(super) async fn resume_stored(
        &self,
        record: ExecutionRecord,
        fence: Option<Fence>,
    ) -> Result<Resumption, RuntimeError> {
        let Some(resume) = self
            .inner
            .workflows
            .values()
            .find(|registered| registered.definition.name == record.workflow)
            .map(|registered| registered.resume)
        else {
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
        match resume(self, record, events, fence.clone()) {
            Ok(()) => Ok(Resumption::Resumed),
            Err(error) => {
                self.fail_unreadable(&id, &error, fence.as_ref()).await?;
                Ok(Resumption::Unreadable(error.to_string()))
            }
        }
    }

    /// Stops every durable execution running in this process at once, as a crash would: no
    /// further event is recorded, and [`recover`](Self::recover) (here or in another runtime on
    /// the same store) resumes them from what the store holds.
    pub fn shutdown(&self) {
        if let Some(worker) = self
            .inner
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            worker.abort();
        }
        if let Some(alarm_loop) = self
            .inner
            .alarm_loop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            alarm_loop.abort();
        }
        self.inner.alarms.clear();
        self.inner.shut_down.store(true, Ordering::Relaxed);
        // Other runtimes take its executions over at once.
        self.give_up_ownership();
        let tasks: Vec<_> = self
            .inner
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
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        if let Some(mut running) = running {
            running.task.abort();
            // The task's end closes the channel.
            while running.done.changed().await.is_ok() {}
        }
        self.inner.alarms.remove(id);
        // Its owner (here, or another runtime) may append meanwhile: the abort then does not
        // follow the stored history, and is made again after the new events.
        for _ in 0..STOP_TRIES {
            let last = self
                .full_history(id)
                .await?
                .last()
                .map_or(0, |event| event.id);
            let now = self.inner.clock.now();
            let mut aborted = Event::new(last + 1, last, now, EventType::ExecutionAborted);
            aborted.error = error.map(str::to_owned);
            aborted.cause = cause.map(str::to_owned);
            let end = ExecutionEnd {
                status: ExecutionStatus::Aborted,
                output: None,
                error: aborted.error.clone(),
                cause: aborted.cause.clone(),
                stopped_at: now,
            };
            match self.inner.store.append(id, vec![aborted], Some(end)).await {
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
    pub async fn redrive<O: Payload>(
        &self,
        id: &ExecutionId,
    ) -> Result<ExecutionHandle<O>, RuntimeError> {
        let record = self.describe(id).await?;
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
            .values()
            .find(|registered| registered.definition.name == record.workflow)
            .ok_or_else(|| RuntimeError::NotRegistered {
                workflow: record.workflow.clone(),
            })?;
        if registered.definition.mode == Mode::Express {
            // Express executions keep no per-state history to redrive from.
            return Err(RuntimeError::NotRedrivable {
                id: id.to_string(),
                status: record.status,
            });
        }
        let events = self.full_history(id).await?;
        let last = events.last().map_or(0, |event| event.id);
        let now = self.inner.clock.now();
        let redriven = Event::new(last + 1, last, now, EventType::ExecutionRedriven);
        match self.inner.store.reopen(id, vec![redriven]).await {
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
            return Err(RuntimeError::Payload(reason));
        }
        Ok(self.handle(id.clone()))
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

    /// The stored record of an execution: status, input, output or error, times.
    pub async fn describe(&self, id: &ExecutionId) -> Result<ExecutionRecord, RuntimeError> {
        self.inner
            .store
            .execution(id)
            .await?
            .ok_or_else(|| RuntimeError::NoSuchExecution { id: id.to_string() })
    }

    /// Stored executions matching `filter`, newest first.
    pub async fn list(
        &self,
        filter: ExecutionFilter,
    ) -> Result<Vec<ExecutionRecord>, RuntimeError> {
        Ok(self.inner.store.list(filter).await?)
    }

    /// A page of an execution's stored history: the events after id `after` (0 for the
    /// first page), at most `limit`.
    pub async fn history(
        &self,
        id: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, RuntimeError> {
        Ok(self.inner.store.history(id, after, limit).await?)
    }

    pub(super) async fn full_history(&self, id: &ExecutionId) -> Result<Vec<Event>, RuntimeError> {
        let mut events: Vec<Event> = Vec::new();
        loop {
            let after = events.last().map_or(0, |event| event.id);
            let page = self.history(id, after, PAGE).await?;
            let full = page.len() == PAGE;
            events.extend(page);
            if !full {
                return Ok(events);
            }
        }
    }

    /// Runs an execution of `W` in the background from its stored history.
    fn spawn<W: Workflow>(
        &self,
        id: ExecutionId,
        started_at: std::time::SystemTime,
        input: W::Input,
        stored: Vec<Event>,
        change: Option<String>,
        fence: Option<Fence>,
    ) {
        let parking = self.inner.lease.park_after.map(|after| {
            self.ensure_alarm_loop();
            Parking {
                after,
                alarms: Arc::clone(&self.inner.alarms),
            }
        });
        let halt = Arc::new(Halt::default());
        let journal = Journal {
            store: Arc::clone(&self.inner.store),
            execution: id.clone(),
            fence,
            parking,
            patience: self.inner.patience,
            clock: Arc::clone(&self.inner.clock),
            halt: Arc::clone(&halt),
        };
        let shared = Shared::with_recorder(
            id.clone(),
            W::definition(),
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
        let leased = shared.recorder.is_fenced();
        self.run_in_background(id, leased, async move {
            let root = ExecutionContext::root(&shared);
            let run = engine::drive_with_timeout::<W>(&root, input);
            // A run that halts (parked, lost, or its store failing) stops here; the execution
            // goes on from what is recorded.
            tokio::select! {
                _ = run => RunEnd::Ended,
                why = halt.halted() => RunEnd::Halted(why),
            }
        });
    }

    /// Runs an Express execution of `W` in the background, in memory, logging to the sink: only
    /// its end is written to the store. After a crash it runs again from the start (at least
    /// once). Without a `permit`, it waits for one. `leased`: a worker claimed it, and keeps
    /// its lease while it runs.
    fn spawn_express<W: Workflow>(
        &self,
        id: ExecutionId,
        input: W::Input,
        permit: Option<OwnedSemaphorePermit>,
        leased: bool,
    ) {
        let runtime = self.clone();
        let store = Arc::clone(&self.inner.store);
        let execution = id.clone();
        self.run_in_background(id, leased, async move {
            let _permit = match permit {
                Some(permit) => permit,
                None => match runtime.express_permit().await {
                    Ok(permit) => permit,
                    Err(_) => return RunEnd::Ended,
                },
            };
            let shared = Shared::new(
                execution.clone(),
                W::definition(),
                Arc::clone(&runtime.inner.resources),
                Arc::clone(&runtime.inner.clock),
                runtime.inner.limits,
            );
            let shared = runtime.logging(shared, W::name());
            let (_, status) = engine::drive_with_timeout::<W>(&ExecutionContext::root(&shared), input).await;
            let (history, _) = shared.into_parts();
            // The stored history holds the start and the end; the rest went to the log sink.
            let Some(last) = history.events().last() else { return RunEnd::Ended };
            let mut end_event = last.clone();
            end_event.id = 2;
            end_event.previous_event_id = 1;
            end_event.state = None;
            end_event.branch = None;
            let end = ExecutionEnd {
                status,
                output: last.output.clone(),
                error: last.error.clone(),
                cause: last.cause.clone(),
                stopped_at: last.timestamp,
            };
            let clock = Arc::clone(&runtime.inner.clock);
            let saved = retrying(&clock, runtime.inner.patience, "saving an Express execution's end", || {
                store.append(&execution, vec![end_event.clone()], Some(end.clone()))
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
        fence: Option<&Fence>,
    ) -> Result<(), RuntimeError> {
        let now = self.inner.clock.now();
        let cause = format!("the execution cannot resume: {error}");
        tracing::error!(execution = %id, %cause, "execution failed on recovery");
        let last = self
            .inner
            .store
            .history(id, 0, usize::MAX)
            .await
            .ok()
            .and_then(|events| events.last().map(|event| event.id));
        let events = match last {
            Some(last) => {
                let mut failed = Event::new(last + 1, last, now, EventType::ExecutionFailed);
                failed.error = Some(States::Runtime.name().to_owned());
                failed.cause = Some(cause.clone());
                vec![failed]
            }
            None => Vec::new(),
        };
        let end = ExecutionEnd {
            status: ExecutionStatus::Failed,
            output: None,
            error: Some(States::Runtime.name().to_owned()),
            cause: Some(cause),
            stopped_at: now,
        };
        let store = &self.inner.store;
        let written = match fence {
            Some(fence) => store.append_fenced(id, fence, events, Some(end)).await,
            None => store.append(id, events, Some(end)).await,
        };
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
    /// Its workflow is not registered here.
    NotHere,
    /// Its stored data cannot be read, or no longer fits its workflow: why.
    Unreadable(String),
}

/// Resumes an unfinished execution of `W`.
pub(super) fn resume<W: Workflow>(
    runtime: &Runtime,
    record: ExecutionRecord,
    events: Vec<Event>,
    fence: Option<Fence>,
) -> Result<(), RuntimeError> {
    let current = W::definition().fingerprint();
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
    let input: W::Input = serde_json::from_value(record.input).map_err(|error| {
        RuntimeError::Payload(format!(
            "its stored input does not read as `{}`: {error}",
            std::any::type_name::<W::Input>()
        ))
    })?;
    if W::definition().mode == Mode::Express {
        // At least once: an Express execution that did not finish runs again from its start.
        runtime.spawn_express::<W>(record.id, input, None, fence.is_some());
    } else {
        // A redriven execution's timeout counts from its latest redrive.
        let started_at = events
            .iter()
            .rev()
            .find(|event| event.kind == EventType::ExecutionRedriven)
            .map_or(record.started_at, |redriven| redriven.timestamp);
        runtime.spawn::<W>(record.id, started_at, input, events, change, fence);
    }
    Ok(())
}
