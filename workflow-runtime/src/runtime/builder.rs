//! Configuring a runtime: its workflows, resources, clock and store.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::callbacks::{CheckOutput, StoreCallbacks};
use super::errors::{BuildError, Problem};
use super::json::{child_json, execute_json, start_json, ChildJson, ExecuteJson, StartJson};
use super::owner::LeaseSettings;
use super::registry::Registry;
use super::resume::{resume, Resume};
use super::scheduler::Scheduler;
use super::{Backpressure, Inner, Registered, Runtime};
use crate::clock::{Clock, SystemClock};
use crate::engine::callback::CallbackHub;
#[cfg(feature = "testing")]
use crate::engine::doubles::Mocks;
use crate::engine::Limits;
use crate::engine::Machine;
use crate::logging::{LogLevel, LogSink, Logging};
use crate::resources::Resources;
#[cfg(feature = "testing")]
use crate::step::Step;
use crate::store::{MemoryStore, Store};
use crate::workflow::{StateRequirement, Workflow};
use workflow_core::definition::Definition;

/// Configures a [`Runtime`]: its workflows, resources and clock.
pub struct RuntimeBuilder {
    resources: Resources,
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
    limits: Limits,
    retention: Duration,
    logging: Logging,
    express_limit: usize,
    backpressure: Backpressure,
    workflows: Vec<Registration>,
    /// Steps replaced in tests (`testing::HarnessBuilder::mock`).
    #[cfg(feature = "testing")]
    mocks: Option<Mocks>,
    callback_poll: Duration,
    lease: LeaseSettings,
    patience: Duration,
    /// Settings given below their least value, refused by [`build`](Self::build).
    out_of_range: Vec<Problem>,
}

/// How many Express executions run at once by default.
const DEFAULT_EXPRESS_LIMIT: usize = 10_000;

/// How often a waiting callback task asks the store whether its token was completed (by
/// another process: completions through this runtime wake it at once).
const DEFAULT_CALLBACK_POLL: Duration = Duration::from_secs(1);

/// How long ended executions are kept by default, as in Step Functions.
const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 60 * 60);

struct Registration {
    /// The workflow's type, for a `workflow!` workflow.
    type_id: Option<TypeId>,
    definition: &'static Definition,
    requirements: Vec<StateRequirement>,
    resume: Resume,
    check_output: CheckOutput,
    execute_json: ExecuteJson,
    start_json: StartJson,
    child_json: ChildJson,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            resources: Resources::default(),
            clock: Arc::new(SystemClock),
            store: Arc::new(MemoryStore::new()),
            limits: Limits::default(),
            retention: DEFAULT_RETENTION,
            logging: Logging::default(),
            express_limit: DEFAULT_EXPRESS_LIMIT,
            backpressure: Backpressure::Wait,
            workflows: Vec::new(),
            #[cfg(feature = "testing")]
            mocks: None,
            callback_poll: DEFAULT_CALLBACK_POLL,
            lease: LeaseSettings::new(),
            patience: crate::engine::journal::DEFAULT_PATIENCE,
            out_of_range: Vec::new(),
        }
    }
}

/// A setting's value shown in an error: a duration as people write it, a count as it is.
trait Shown: PartialOrd + Copy {
    fn shown(self) -> String;
}

impl Shown for Duration {
    fn shown(self) -> String {
        humantime::format_duration(self).to_string()
    }
}

impl Shown for usize {
    fn shown(self) -> String {
        self.to_string()
    }
}

impl RuntimeBuilder {
    /// `value`, which [`build`](Self::build) refuses if it is below `least` (rather than
    /// silently raise it).
    fn at_least<T: Shown>(&mut self, setting: &'static str, value: T, least: T) -> T {
        if value < least {
            self.out_of_range.push(Problem::OutOfRange {
                setting,
                value: value.shown(),
                least: least.shown(),
            });
        }
        value
    }

    /// Registers workflow `W`; its steps' resources are checked by [`build`](Self::build).
    pub fn register<W: Workflow>(mut self) -> Self {
        let mut requirements = Vec::new();
        W::requirements(&mut requirements);
        self.workflows.push(Registration {
            type_id: Some(TypeId::of::<W>()),
            definition: W::definition(),
            requirements,
            resume: resume::<W::Machine>,
            check_output: W::check_task_output,
            execute_json: execute_json::<W::Machine>,
            start_json: start_json::<W::Machine>,
            child_json: child_json::<W::Machine>,
        });
        self
    }

    /// Registers a workflow defined at run time: `definition`, run by machine `M` (which finds
    /// what it runs in the definition's [`program`](Definition::program)). The definition
    /// lives as long as the process. Used by `workflow::asl`.
    #[doc(hidden)]
    pub fn register_machine<M: Machine>(mut self, definition: Definition) -> Self {
        let definition: &'static Definition = Box::leak(Box::new(definition));
        self.workflows.push(Registration {
            type_id: None,
            definition,
            requirements: Vec::new(),
            resume: resume::<M>,
            // Its tasks take JSON: any JSON completes a callback of it (only task states
            // have callbacks).
            check_output: |_, _| Some(Ok(())),
            execute_json: execute_json::<M>,
            start_json: start_json::<M>,
            child_json: child_json::<M>,
        });
        self
    }

    /// Adds a resource that steps take as [`Res<T>`](crate::Res); replaces an earlier one of
    /// the same type.
    pub fn resource<T: Send + Sync + 'static>(self, value: T) -> Self {
        self.resource_arc(Arc::new(value))
    }

    /// Adds a shared resource, which may be a trait object (`Arc<dyn Gateway>`), so tests can
    /// hand steps a fake.
    pub fn resource_arc<T: ?Sized + Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.resources.insert(value);
        self
    }

    /// How often a callback task waiting for its token asks the store whether another process
    /// completed it (1 s by default). Completions sent through this runtime wake it at once.
    pub fn callback_poll_interval(mut self, interval: Duration) -> Self {
        self.callback_poll =
            self.at_least("callback_poll_interval", interval, Duration::from_millis(1));
        self
    }

    /// Lets durable executions leave memory while they wait: a Wait state or retry interval
    /// longer than `after` (at least a second), at the top level of an execution, ends its
    /// task once everything before the wait is durable, and the runtime resumes the execution
    /// from the store, by replay, when it is due. Parked, an execution costs an entry in a
    /// timer list instead of its running state, so a runtime can hold hundreds of thousands of
    /// long waits. Off by default: resuming reads the history back, which a short wait does
    /// not need. Waits inside Parallel and Map branches never park. Workers
    /// ([`lease`](Self::lease)) park their long waits anyway, after their lease.
    ///
    /// [`ExecutionHandle::result`](crate::ExecutionHandle::result) follows a parked execution
    /// through the store, polling at most once a second.
    pub fn park_after(mut self, after: Duration) -> Self {
        self.lease.park_after = Some(self.at_least("park_after", after, Duration::from_secs(1)));
        self
    }

    /// Makes this runtime one of several workers sharing its store (PostgreSQL, typically),
    /// which [`Runtime::serve`] runs: it claims executions that no live worker holds every
    /// half second (see [`claim_every`](Self::claim_every)), and holds leases that last
    /// `duration` unless renewed (every runtime holds leases on what it runs, 60 s by
    /// default, renewed while it runs them). A worker that stops renewing (it died) loses its
    /// executions to the others once `duration` has passed (on SQLite at once, when its
    /// process has ended), so make it several times longer than a pause the process may take,
    /// and keep the workers' clocks in sync (NTP). The worker's name is random unless
    /// [`worker_name`] sets it. A worker's waits longer than its lease park the execution:
    /// it leaves memory, and whichever worker claims it when it is due resumes it.
    ///
    /// Executions a worker starts itself ([`Runtime::start_named`]) run under its lease.
    /// [`Runtime::submit`] leaves an execution for whichever worker claims it.
    ///
    /// [`worker_name`]: Self::worker_name
    pub fn lease(mut self, duration: Duration) -> Self {
        let duration = self.at_least("lease", duration, Duration::from_millis(10));
        let settings = &mut self.lease;
        settings.configured = true;
        settings.duration = duration;
        settings.park_after = Some(duration);
        self
    }

    /// Names this worker (for its leases and logs); implies [`lease`](Self::lease) with a
    /// 30 s lease if none was set. Names are unique among the runtimes sharing a store.
    pub fn worker_name(mut self, name: &str) -> Self {
        self = self.ensure_lease();
        name.clone_into(&mut self.lease.worker);
        self
    }

    /// How often the worker looks for executions to claim (500 ms by default), and how many it
    /// runs at once at most (10,000 by default).
    pub fn claim_every(mut self, poll: Duration, capacity: usize) -> Self {
        self = self.ensure_lease();
        self.lease.poll = self.at_least("claim_every (poll)", poll, Duration::from_millis(1));
        self.lease.capacity = self.at_least("claim_every (capacity)", capacity, 1);
        self
    }

    fn ensure_lease(self) -> Self {
        if self.lease.configured {
            self
        } else {
            self.lease(Duration::from_secs(30))
        }
    }

    /// Replaces step `S` (in state `state` only, or wherever it runs) with `mock`: for
    /// `testing::HarnessBuilder`, so that production builders have no mocks.
    #[cfg(feature = "testing")]
    pub(crate) fn mock_in<S: Step>(
        mut self,
        state: Option<&str>,
        mock: std::sync::Arc<dyn crate::engine::doubles::Responder<S>>,
    ) -> Self {
        self.mocks
            .get_or_insert_with(Mocks::default)
            .insert::<S>(state, mock);
        self
    }

    /// Where durable executions ([`Runtime::start`]) live: a [`SqliteStore`] file, or (by
    /// default) a [`MemoryStore`], which forgets everything when the runtime goes.
    ///
    /// [`SqliteStore`]: crate::store::SqliteStore
    pub fn store(self, store: impl Store) -> Self {
        self.store_arc(Arc::new(store))
    }

    /// Like [`store`](Self::store), for a store already shared.
    pub fn store_arc(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// The largest state input or output, in bytes of JSON (256 KiB by default, as in Step
    /// Functions). A larger one fails its state with `States.DataLimitExceeded`.
    pub fn payload_limit(mut self, bytes: usize) -> Self {
        self.limits.payload_bytes = bytes;
        self
    }

    /// The most events one execution's history may hold (25,000 by default, as in Step
    /// Functions). An execution that would record more fails with `States.Runtime`.
    pub fn history_limit(mut self, events: usize) -> Self {
        self.limits.history_events = self.at_least("history_limit", events, 2);
        self
    }

    /// How long the histories of ended executions are kept (90 days by default);
    /// [`Runtime::purge_expired`] deletes older ones.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How much Express executions log (nothing by default), as structured `tracing` events
    /// of target `workflow::express` (see [`Logging`] for their fields and for writing them to
    /// a JSON-lines file).
    pub fn express_logging(mut self, logging: Logging) -> Self {
        self.logging = logging;
        self
    }

    /// At most `limit` Express executions run at once (10,000 by default); a start beyond that
    /// waits or is refused, as `when_full` says.
    pub fn express_concurrency(mut self, limit: usize, when_full: Backpressure) -> Self {
        self.express_limit = self.at_least("express_concurrency", limit, 1);
        self.backpressure = when_full;
        self
    }

    /// How long a running execution waits for a failing store (5 minutes by default). A write
    /// that fails for a reason that may pass (a database restarting, a lost connection, a full
    /// disk: [`StoreError::Unavailable`](crate::store::StoreError::Unavailable)) is tried
    /// again with backoff, and the execution pauses meanwhile; it never fails because the store
    /// was away. When the store fails for longer, this runtime stops running the execution:
    /// its [`ExecutionHandle::result`](crate::ExecutionHandle::result) returns the store's
    /// error, and the execution stays as recorded, to go on when the store works again (this
    /// runtime resumes it by itself, as does [`Runtime::recover`]).
    pub fn store_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Replaces the clock (the system clock by default).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the registrations and builds the runtime.
    ///
    /// Fails if two registered workflows share a name and version, a workflow's steps need resources the
    /// runtime lacks, or a setting was given a value below its least (a lease under 10 ms, a
    /// park threshold under a second, a poll interval under a millisecond, a capacity, an
    /// Express concurrency or a history limit of zero, a history limit of one: they are
    /// refused rather than raised silently); the error lists every such problem.
    pub fn build(mut self) -> Result<Runtime, BuildError> {
        let mut problems = std::mem::take(&mut self.out_of_range);
        let mut workflows = Registry::default();
        let mut names: HashMap<(&str, u32), Option<TypeId>> = HashMap::new();
        for registration in &self.workflows {
            let name = registration.definition.name.as_str();
            let version = registration.definition.version;
            match names.get(&(name, version)) {
                // The same workflow type registered twice is one registration.
                Some(Some(type_id)) if Some(*type_id) == registration.type_id => continue,
                Some(_) => {
                    problems.push(Problem::DuplicateName {
                        workflow: name.to_owned(),
                        version,
                    });
                    continue;
                }
                None => {
                    names.insert((name, version), registration.type_id);
                }
            }
            for needed in &registration.requirements {
                let (workflow, state, step, resource) = (
                    name.to_owned(),
                    needed.state.to_owned(),
                    needed.step.to_owned(),
                    needed.requirement.type_name().to_owned(),
                );
                let problem = if self.resources.contains(needed.requirement.arc_type_id) {
                    Problem::ResourceInArc {
                        workflow,
                        state,
                        step,
                        resource,
                    }
                } else {
                    Problem::MissingResource {
                        workflow,
                        state,
                        step,
                        resource,
                    }
                };
                // A step may take the same resource twice; report it once. A mocked step
                // takes nothing.
                #[cfg(feature = "testing")]
                let mocked = self
                    .mocks
                    .as_ref()
                    .is_some_and(|mocks| mocks.covers(needed.step_type));
                #[cfg(not(feature = "testing"))]
                let mocked = false;
                if !mocked
                    && !self.resources.contains(needed.requirement.type_id)
                    && !problems.contains(&problem)
                {
                    problems.push(problem);
                }
            }
            for (state, error) in registration.definition.unraisable_errors() {
                problems.push(Problem::UnraisableError {
                    workflow: name.to_owned(),
                    raised: registration.definition.raisable_errors_of(&state),
                    state,
                    error,
                });
            }
            workflows.insert(
                registration.type_id,
                Registered {
                    definition: registration.definition,
                    fingerprint: registration.definition.fingerprint(),
                    resume: registration.resume,
                    check_output: registration.check_output,
                    execute_json: registration.execute_json,
                    start_json: registration.start_json,
                    child_json: registration.child_json,
                },
            );
        }
        let sink = match self.logging.level() {
            LogLevel::Off => None,
            _ => Some(Arc::new(LogSink::new(&self.logging))),
        };
        if !problems.is_empty() {
            return Err(BuildError { problems });
        }
        let mut resources = self.resources;
        resources.insert(Arc::new(super::registry::WorkflowDefinitions::of(
            &workflows,
        )));
        #[cfg(feature = "testing")]
        {
            resources.mocks = self.mocks.map(Arc::new);
        }
        resources.callbacks = Some(Arc::new(CallbackHub::new(
            Arc::new(StoreCallbacks(Arc::clone(&self.store))),
            self.callback_poll,
        )));
        Ok(Runtime {
            inner: Arc::new(Inner {
                resources: Arc::new(resources),
                clock: self.clock,
                store: self.store,
                limits: self.limits,
                retention: self.retention,
                sink,
                workflows,
                patience: self.patience,
                definitions_recorded: tokio::sync::OnceCell::new(),
                scheduler: Scheduler::new(self.express_limit, self.backpressure, self.lease),
            }),
        })
    }
}

impl fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field(
                "workflows",
                &self
                    .workflows
                    .iter()
                    .map(|r| &r.definition.name)
                    .collect::<Vec<_>>(),
            )
            .field("resources", &self.resources)
            .field("clock", &self.clock)
            .field("store", &self.store)
            .finish()
    }
}
