//! Running executions, every way, in one place:
//!
//! | method | runs | history | use it for |
//! |---|---|---|---|
//! | [`execute`](Runtime::execute) | in the calling task, in memory | all of it, returned | tests, short in-process work |
//! | [`call`](Runtime::call) | in the calling task, in memory | none (the fastest) | an Express workflow behind a request |
//! | [`start`](Runtime::start) / [`start_named`](Runtime::start_named) | here, in the background, durably | stored | Standard workflows: survives restarts |
//! | [`submit`](Runtime::submit) | by whichever worker claims it | stored | several workers sharing a store |
//!
//! A durable execution is created in the store (idempotently, by name), runs under the lease
//! of the runtime that holds it, and is awaited through its [`ExecutionHandle`].

use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::policy::{Policy, Run};
use super::running::RunEnd;
use super::{Runtime, RuntimeError};
use crate::engine::journal::Halted;
use crate::engine::payload;
use crate::engine::recorder::Recorder;
use crate::engine::{self, ExecutionContext, LazyId, Machine, Shared};
use crate::execution::{Execution, ExecutionFailure, ExecutionId, ExecutionStatus};
use crate::history::Event;
use crate::names::name_problem;
use crate::step::Payload;
use crate::store::{
    Created, ErrorSource, Fence, Lease, NewExecution, StoreError, StoredDefinition,
};
use crate::workflow::Workflow;
use workflow_core::definition::Definition;

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
            if self
                .runtime
                .inner
                .scheduler
                .shut_down
                .load(Ordering::Relaxed)
            {
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
                        RuntimeError::Payload {
                            message: format!(
                                "the output of execution `{}` does not read as `{}`: {error}",
                                self.id,
                                std::any::type_name::<O>()
                            ),
                            source: Some(ErrorSource::new(error)),
                        }
                    });
                }
                _ => {
                    return Ok(Err(ExecutionFailure::new(
                        record.failed_state.as_deref(),
                        record.error.unwrap_or_default(),
                        record.cause.unwrap_or_default(),
                    )))
                }
            }
        }
    }
}

impl Runtime {
    /// Creates a durable execution of `W` named `name` for whichever worker claims it first,
    /// without running it here.
    pub async fn submit<W: Workflow>(
        &self,
        name: &str,
        input: W::Input,
    ) -> Result<super::ExecutionHandle<W::Output>, RuntimeError> {
        self.registered::<W>()?;
        self.create::<W::Machine>(W::definition(), name, input, false)
            .await
    }

    /// Runs an execution of `W` to its end in the calling task, in memory, and returns its
    /// result with its full history.
    ///
    /// A failing execution is an `Ok(Execution)` whose [`result`](Execution::result) is the
    /// failure; `Err` means the execution could not be run at all.
    pub async fn execute<W: Workflow>(
        &self,
        input: W::Input,
    ) -> Result<Execution<W::Output>, RuntimeError> {
        self.registered::<W>()?;
        self.execute_machine::<W::Machine>(W::definition(), input)
            .await
    }

    /// [`execute`](Self::execute) for the workflow of `definition`, run by machine `M`.
    pub(super) async fn execute_machine<M: Machine>(
        &self,
        definition: &'static Definition,
        input: M::Input,
    ) -> Result<Execution<M::Output>, RuntimeError> {
        self.accepting()?;
        let policy = Policy::of(definition);
        let _admitted = policy.admit_here(self).await?;
        let clock = &self.inner.clock;
        let id = ExecutionId::random();
        let mut shared = Shared::new(
            id.clone(),
            definition,
            Arc::clone(&self.inner.resources),
            Arc::clone(clock),
            self.inner.limits,
        );
        policy.observe(self, &mut shared, definition.name.as_str());
        let started_at = clock.now();
        let (result, status) = engine::drive_with_timeout(
            &ExecutionContext::root(&shared),
            input,
            engine::machine_run::<M>(),
        )
        .await;
        let stopped_at = clock.now();
        let (history, children) = shared.into_parts();
        Ok(Execution {
            id,
            workflow: definition.name.as_str(),
            status,
            started_at,
            stopped_at,
            result,
            history,
            children,
        })
    }

    /// Runs an execution of `W` in the calling task and returns only its result: no history is
    /// kept, which makes this the fastest way to run a workflow (an Express workflow called
    /// for a request/response, typically). Payload limits and timeouts apply; Express
    /// executions count against the concurrency limit and log to the sink as usual.
    pub async fn call<W: Workflow>(
        &self,
        input: W::Input,
    ) -> Result<Result<W::Output, ExecutionFailure>, RuntimeError> {
        self.registered::<W>()?;
        self.accepting()?;
        let definition = W::definition();
        let policy = Policy::of(definition);
        let _admitted = policy.admit_here(self).await?;
        let clock = &self.inner.clock;
        let mut shared = Shared::with_recorder(
            LazyId::random(),
            definition,
            Arc::clone(&self.inner.resources),
            Arc::clone(clock),
            clock.now(),
            Recorder::lean(),
            self.inner.limits,
        );
        policy.observe(self, &mut shared, W::name());
        let (result, _) = engine::drive_with_timeout(
            &ExecutionContext::root(&shared),
            input,
            engine::machine_run::<W::Machine>(),
        )
        .await;
        Ok(result)
    }

    /// Starts a durable execution of `W` with a generated name; it runs in the background and
    /// every event is in the store before the engine acts on it.
    pub async fn start<W: Workflow>(
        &self,
        input: W::Input,
    ) -> Result<ExecutionHandle<W::Output>, RuntimeError> {
        // A random UUID, as an id is: made without asking the operating system each time.
        self.start_named::<W>(ExecutionId::random().as_str(), input)
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
        self.registered::<W>()?;
        self.create::<W::Machine>(W::definition(), name, input, true)
            .await
    }

    /// Records the registered workflows' definitions in the store, once per runtime (on its
    /// first durable start, recovery or claim), so that tools can draw any workflow and
    /// execution without the code. Stores that keep no definitions are skipped.
    pub(super) async fn record_definitions(&self) -> Result<(), RuntimeError> {
        self.inner
            .definitions_recorded
            .get_or_try_init(|| async {
                let Some(definitions) = self.inner.store.definitions() else {
                    return Ok(());
                };
                let now = self.inner.clock.now();
                for registered in self.inner.workflows.iter() {
                    let definition = StoredDefinition {
                        workflow: registered.definition.name.clone(),
                        fingerprint: registered.fingerprint.clone(),
                        definition: registered.definition.clone(),
                        registered_at: now,
                    };
                    definitions.save_definition(definition).await?;
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// Creates an execution named `name`; with `run_here`, this process runs it (holding its
    /// lease when the runtime is a worker), otherwise whichever worker claims it does.
    pub(super) async fn create<M: Machine>(
        &self,
        definition: &'static Definition,
        name: &str,
        input: M::Input,
        run_here: bool,
    ) -> Result<ExecutionHandle<M::Output>, RuntimeError> {
        self.accepting()?;
        self.record_definitions().await?;
        if let Some(reason) = name_problem(name) {
            return Err(RuntimeError::InvalidName {
                name: name.to_owned(),
                reason,
            });
        }
        let json = self.storable_input(&input)?;
        // An Express start that cannot be accepted waits or is refused before it is written.
        let policy = Policy::of(definition);
        let permit = policy.admit(self).await?;
        let now = self.inner.clock.now();
        let id = ExecutionId::random();
        let started = Event::execution_started(json.clone(), now);
        // This runtime holds the lease of what it runs from the start: no one else claims it.
        if run_here {
            self.keep_executions()?;
        }
        let lease = run_here.then(|| Lease {
            worker: self.inner.scheduler.lease.worker.clone(),
            token: 1,
            until: now + self.inner.scheduler.lease.duration,
        });
        let fence = Fence {
            worker: self.inner.scheduler.lease.worker.clone(),
            token: 1,
        };
        let created = self
            .inner
            .store
            .create(NewExecution {
                id: id.clone(),
                name: name.to_owned(),
                workflow: definition.name.clone(),
                version: definition.version,
                input: json.clone(),
                fingerprint: self.fingerprint_of(definition),
                started_at: now,
                events: vec![started.clone()],
                lease,
            })
            .await?;
        if matches!(created, Created::New) && !policy.engine_records_start() {
            // The engine replays this first event rather than record (and count) it.
            crate::metrics::execution_started(definition.name.as_str(), definition.mode);
        }
        match created {
            Created::New if !run_here => Ok(self.handle_of(id)),
            Created::New => {
                let run = Run {
                    id: id.clone(),
                    input,
                    started_at: now,
                    stored: vec![started],
                    change: None,
                    fence,
                    permit,
                };
                policy.run::<M>(self, definition, run);
                Ok(self.handle_of(id))
            }
            Created::Existing(existing)
                if existing.status == ExecutionStatus::Running && existing.input == json =>
            {
                Ok(self.handle_of(existing.id))
            }
            Created::Existing(existing) => Err(RuntimeError::ExecutionAlreadyExists {
                workflow: definition.name.clone(),
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
    /// and nesting depth, and reading back as an `I`.
    fn storable_input<I: Payload>(&self, input: &I) -> Result<serde_json::Value, RuntimeError> {
        let refuse = |reason: String| RuntimeError::InvalidInput { reason };
        let problem = payload::problem(input, self.inner.limits.payload_bytes)
            .map_err(|error| refuse(format!("it has no JSON form: {error}")))?;
        if let Some(problem) = problem {
            return Err(refuse(format!("it {problem}")));
        }
        let json = serde_json::to_value(input)
            .map_err(|error| refuse(format!("it has no JSON form: {error}")))?;
        serde_json::from_value::<I>(json.clone()).map_err(|error| {
            refuse(format!(
                "it would not read back as `{}` once stored as JSON ({error}); a float that is NaN or infinite, for one, is stored as null",
                std::any::type_name::<I>()
            ))
        })?;
        Ok(json)
    }

    /// A handle to the execution `id` of workflow `W`, to await its result (typed as `W`'s
    /// output). An execution of another workflow is found out when its result is read: its
    /// output does not read as `W::Output`, or its workflow is named in the error.
    pub fn handle<W: Workflow>(&self, id: ExecutionId) -> ExecutionHandle<W::Output> {
        self.handle_of(id)
    }

    /// A handle typed by the output alone, for the runtime's own use.
    pub(crate) fn handle_of<O>(&self, id: ExecutionId) -> ExecutionHandle<O> {
        ExecutionHandle {
            id,
            runtime: self.clone(),
            output: PhantomData,
        }
    }
}
