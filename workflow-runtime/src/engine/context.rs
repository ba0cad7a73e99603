//! The per-execution context the engine threads through every state: identity, resources,
//! clock and the history recorder.
//!
//! Branches of a Parallel state and iterations of a Map state run concurrently within one
//! execution. Each runs with its own context, a *lane*, that shares the execution's recorder
//! but keeps its own chain of `previous_event_id`s and labels its events with the branch.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use serde::Serialize;

use crate::clock::Clock;
use crate::engine::cancelled::SubLanes;
use crate::engine::recorder::{Recorded, Recorder};
use crate::execution::{ChildExecution, ExecutionFailure, ExecutionId};
use crate::history::{Event, EventType, History};
use crate::resources::Resources;
use crate::step::{Heartbeat, StepEnv, TaskToken};
use workflow_core::definition::{Definition, StateId};

/// Limits on one execution's data, as in Step Functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The largest state input or output, in bytes of JSON.
    pub(crate) payload_bytes: usize,
    /// The most events in a history.
    pub(crate) history_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            payload_bytes: 256 * 1024,
            history_events: super::recorder::DEFAULT_HISTORY_LIMIT,
        }
    }
}

/// What every lane of one execution shares.
#[derive(Debug)]
pub(crate) struct Shared {
    id: LazyId,
    pub(crate) definition: &'static Definition,
    pub(crate) resources: Arc<Resources>,
    pub(crate) clock: Arc<dyn Clock>,
    /// When the execution started (for its timeout, also after a restart).
    pub(crate) started_at: SystemTime,
    pub(crate) recorder: Recorder,
    pub(crate) limits: Limits,
    /// Retries every retrier has used already when a state is entered: 0, except when a test
    /// of one state says otherwise.
    pub(crate) retries_done: u32,
    /// Whether a subscriber wanted spans when the execution started: it runs in spans, or in
    /// none at all (see [`spans`](super::spans)).
    pub(crate) traced: bool,
    /// The child executions started by this execution's tasks.
    children: OnceLock<Children>,
}

/// An execution's id, made when first asked for: a fresh random id is written out as text
/// only then, since most synchronous Express executions never look at theirs (writing it
/// was about 20 ns of such an execution's ~150, `express_overhead`). Not in `ExecutionId`
/// itself: a lazily written id would be a hash key with interior mutability to its users.
#[derive(Debug)]
pub(crate) struct LazyId {
    random: [u8; 16],
    id: OnceLock<ExecutionId>,
}

impl LazyId {
    /// A fresh random id, not written out yet.
    pub(crate) fn random() -> Self {
        LazyId {
            random: fastrand::u128(..).to_le_bytes(),
            id: OnceLock::new(),
        }
    }
}

impl From<ExecutionId> for LazyId {
    fn from(id: ExecutionId) -> Self {
        LazyId {
            random: [0; 16],
            id: OnceLock::from(id),
        }
    }
}

/// The child executions of an execution, shared with the tasks that start them.
pub(crate) type Children = Arc<Mutex<Vec<ChildExecution>>>;

impl Shared {
    /// An execution recorded in memory only.
    pub(crate) fn new(
        id: impl Into<LazyId>,
        definition: &'static Definition,
        resources: Arc<Resources>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Self {
        let started_at = clock.now();
        // A task state records five events; the execution its start and end. Capped: a
        // history that loops grows as needed.
        let expected = (definition.states.len() * 5 + 2).min(1024);
        let recorder = Recorder::in_memory(limits.history_events, expected);
        Self::with_recorder(
            id, definition, resources, clock, started_at, recorder, limits,
        )
    }

    pub(crate) fn with_recorder(
        id: impl Into<LazyId>,
        definition: &'static Definition,
        resources: Arc<Resources>,
        clock: Arc<dyn Clock>,
        started_at: SystemTime,
        recorder: Recorder,
        limits: Limits,
    ) -> Self {
        Shared {
            id: id.into(),
            definition,
            resources,
            clock,
            started_at,
            recorder,
            limits,
            retries_done: 0,
            traced: super::spans::wanted(),
            children: OnceLock::new(),
        }
    }

    /// The execution's id.
    #[inline]
    pub(crate) fn id(&self) -> &ExecutionId {
        self.id
            .id
            .get_or_init(|| ExecutionId::from_random(self.id.random))
    }

    /// Where the child executions of this execution are listed as they end: made when the
    /// first starts (most executions start none).
    pub(crate) fn children(&self) -> Children {
        Arc::clone(self.children.get_or_init(Children::default))
    }

    /// The recorded history and the child executions.
    pub(crate) fn into_parts(self) -> (History, Vec<ChildExecution>) {
        let children = self.children.get().map_or_else(Vec::new, |children| {
            std::mem::take(&mut *children.lock().unwrap_or_else(PoisonError::into_inner))
        });
        (History::from_events(self.recorder.into_events()), children)
    }
}

/// One running execution (or one branch of it), as seen by the engine.
#[derive(Debug)]
pub struct ExecutionContext<'s> {
    pub(crate) shared: &'s Shared,
    /// The branch label of this lane (`None` at the top level).
    branch: Option<Arc<str>>,
    /// The id of the last event recorded in this lane.
    last_event: AtomicU64,
    /// The state this lane is in (`usize::MAX` before its first), to say where a panic in the
    /// workflow's own code happened.
    current: AtomicUsize,
    /// The state this lane is in and since when, unless it is replayed: for its duration.
    #[cfg(feature = "metrics")]
    timing: Mutex<Option<(StateId, SystemTime)>>,
}

impl<'s> ExecutionContext<'s> {
    /// The top-level lane of an execution.
    pub(crate) fn root(shared: &'s Shared) -> Self {
        ExecutionContext {
            shared,
            branch: None,
            last_event: AtomicU64::new(0),
            current: AtomicUsize::new(usize::MAX),
            #[cfg(feature = "metrics")]
            timing: Mutex::new(None),
        }
    }

    /// A lane for a branch or iteration, labelled `label` below this lane's label; its first
    /// event follows this lane's last.
    pub(crate) fn lane(&self, label: &str) -> ExecutionContext<'s> {
        let branch = match &self.branch {
            Some(parent) => format!("{parent}/{label}"),
            None => label.to_owned(),
        };
        ExecutionContext {
            shared: self.shared,
            branch: Some(branch.into()),
            last_event: AtomicU64::new(self.last_event.load(Ordering::Relaxed)),
            current: AtomicUsize::new(usize::MAX),
            #[cfg(feature = "metrics")]
            timing: Mutex::new(None),
        }
    }

    /// Notes that this lane is entering `state`.
    #[inline]
    pub(crate) fn entering(&self, state: StateId) {
        self.current.store(state.0, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        self.time_state(Some(state));
    }

    /// Notes that this lane has left its last state (its machine ended).
    #[inline]
    pub(crate) fn left_state(&self) {
        #[cfg(feature = "metrics")]
        self.time_state(None);
    }

    /// Measures the state this lane leaves, and starts timing `next`, unless it is replayed
    /// (on resumption, its events are read back: it did not run now).
    #[cfg(feature = "metrics")]
    fn time_state(&self, next: Option<StateId>) {
        let now = self.shared.clock.now();
        let replayed = self.shared.recorder.replays(self.branch.as_deref());
        let timing = next.filter(|_| !replayed).map(|state| (state, now));
        let left = std::mem::replace(
            &mut *self
                .timing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            timing,
        );
        if let Some((state, since)) = left {
            let definition = self.definition();
            let kind = definition
                .state(state)
                .map_or("?", |state| state.kind.name());
            crate::metrics::state_ran(
                definition.name.as_str(),
                definition.state_name(state),
                kind,
                now.duration_since(since).unwrap_or_default(),
            );
        }
    }

    /// The state this lane is in, if it has entered one.
    pub(crate) fn current_state(&self) -> Option<StateId> {
        let state = self.current.load(Ordering::Relaxed);
        (state != usize::MAX).then_some(StateId(state))
    }

    /// Continues this lane after the lanes it started have ended: its next event follows the
    /// latest event of the execution.
    pub(crate) fn rejoin(&self) {
        self.last_event
            .store(self.shared.recorder.latest(), Ordering::Relaxed);
    }

    /// The branches or iterations of Parallel or Map state `state`, entered in this lane.
    pub(crate) fn sub_lanes(&self, state: StateId) -> SubLanes {
        SubLanes::of(self.branch.as_deref(), self.state_name(state))
    }

    /// Closes in the history what the cancelled branches or iterations of `state` left open.
    pub(crate) fn close_lanes(&self, state: StateId) {
        if !self.shared.recorder.is_lean() {
            let at = self.shared.clock.now();
            self.shared.recorder.close_lanes(&self.sub_lanes(state), at);
        }
    }

    /// Whether this is the top-level lane (not a Parallel branch or Map iteration).
    pub(crate) fn is_top_level(&self) -> bool {
        self.branch.is_none()
    }

    /// Makes everything recorded so far durable before the engine acts on it.
    pub(crate) async fn flush(&self) -> Result<(), ExecutionFailure> {
        // Without a write to make (no journal, or halted), no future to make either.
        if let Some(done) = self.shared.recorder.settled() {
            return done;
        }
        // Boxed: the durable path's future is large, and every state's future would carry it.
        // In a statement of its own, or the unboxed future's space stays in this one.
        let flushing = Box::pin(self.shared.recorder.flush(None));
        flushing.await
    }

    /// The id of the last event recorded (or replayed) in this lane.
    pub(crate) fn last_event_id(&self) -> u64 {
        self.last_event.load(Ordering::Relaxed)
    }

    /// The next stored event of this lane that replay has not reached (when resuming).
    pub(crate) fn replay_next(&self) -> Option<Event> {
        self.shared.recorder.peek(self.branch.as_deref())
    }

    #[inline]
    pub(crate) fn definition(&self) -> &'static Definition {
        self.shared.definition
    }

    /// The definition of the workflow this execution runs: for a workflow defined at run
    /// time, where its machine finds its program. Not a public API.
    #[doc(hidden)]
    pub fn workflow_definition(&self) -> &'static Definition {
        self.shared.definition
    }

    /// The resource of type `T` registered on the runtime, if any: for what a state of a
    /// workflow defined at run time calls besides its steps. Not a public API.
    #[doc(hidden)]
    pub fn resource<T: ?Sized + Send + Sync + 'static>(&self) -> Option<std::sync::Arc<T>> {
        self.shared.resources.get::<T>()
    }

    /// The context a call made by state `state` itself (not by a step) sees, in its attempt
    /// `attempt`, under the name `step`. Not a public API.
    #[doc(hidden)]
    pub fn step_context(
        &self,
        state: workflow_core::definition::StateId,
        step: &'static str,
        attempt: u32,
    ) -> crate::step::StepContext {
        crate::step::StepContext::new(
            self.shared.id().clone(),
            self.shared.definition.name.as_str(),
            self.state_name(state),
            step,
            attempt,
        )
    }

    /// The execution's id. Not a public API.
    #[doc(hidden)]
    pub fn execution_id(&self) -> &crate::execution::ExecutionId {
        self.shared.id()
    }

    /// When the execution started (or was last redriven). Not a public API.
    #[doc(hidden)]
    pub fn execution_started_at(&self) -> std::time::SystemTime {
        self.shared.started_at
    }

    /// The time by the execution's clock. Not a public API.
    #[doc(hidden)]
    pub fn now(&self) -> std::time::SystemTime {
        self.shared.clock.now()
    }

    /// The id of the last event of this lane: right after a state is entered, its entry's.
    /// Not a public API.
    #[doc(hidden)]
    pub fn latest_event_id(&self) -> u64 {
        self.last_event_id()
    }

    /// When the last event of this lane happened (as recorded, or as replayed when the
    /// execution resumes): right after a state is entered, its entry's time. The clock's time
    /// when nothing is kept. Not a public API.
    #[doc(hidden)]
    pub fn latest_event_time(&self) -> std::time::SystemTime {
        self.shared
            .recorder
            .event_time(self.last_event_id())
            .unwrap_or_else(|| self.shared.clock.now())
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    /// The name of a state of this execution's workflow.
    #[inline]
    pub(crate) fn state_name(&self, state: StateId) -> &'static str {
        self.shared.definition.state_name(state)
    }

    /// What a step's arguments are built from.
    #[inline]
    pub(crate) fn step_env<'a>(
        &'a self,
        state: StateId,
        step: &'static str,
        attempt: u32,
        heartbeat: Option<&'a Arc<Heartbeat>>,
        token: Option<&'a TaskToken>,
    ) -> StepEnv<'a> {
        StepEnv {
            token,
            shared: self.shared,
            state: self.state_name(state),
            step,
            attempt,
            heartbeat,
        }
    }

    /// Records an event (or replays its stored twin) and lets `fill` set its details.
    pub(crate) fn record(
        &self,
        kind: EventType,
        state: Option<StateId>,
        fill: impl FnOnce(&mut Event),
    ) -> Recorded {
        self.record_at(None, kind, state, fill)
    }

    /// [`record`](Self::record) at `at` when given: the time of an event recorded just
    /// before in the same synchronous stretch (see [`Recorded::new_time`]), so that events
    /// that happen together read the clock once.
    pub(crate) fn record_at(
        &self,
        at: Option<SystemTime>,
        kind: EventType,
        state: Option<StateId>,
        fill: impl FnOnce(&mut Event),
    ) -> Recorded {
        if self.shared.recorder.is_lean() {
            return Recorded::nothing(self.last_event_id());
        }
        let timestamp = at.unwrap_or_else(|| self.shared.clock.now());
        let state_name = state.map(|state| self.state_name(state));
        self.shared.recorder.record(
            self.branch.as_deref(),
            &self.last_event,
            kind,
            state_name,
            timestamp,
            |event| {
                self.place_event(event, state_name);
                fill(event);
            },
        )
    }

    /// Records two events of `state` one after the other (or replays their stored twins),
    /// the first at `at` when given, both at the same time: what happens together, recorded
    /// under one lock. Each `fill` sets its event's details.
    pub(crate) fn record_two_at(
        &self,
        at: Option<SystemTime>,
        state: StateId,
        first: (EventType, impl FnOnce(&mut Event)),
        second: (EventType, impl FnOnce(&mut Event)),
    ) -> (Recorded, Recorded) {
        if self.shared.recorder.is_lean() {
            let last = self.last_event_id();
            return (Recorded::nothing(last), Recorded::nothing(last));
        }
        let timestamp = at.unwrap_or_else(|| self.shared.clock.now());
        let state_name = self.state_name(state);
        let branch = self.branch.as_deref();
        self.shared.recorder.record_two(
            branch,
            &self.last_event,
            Some(state_name),
            timestamp,
            &*self.shared.clock,
            (first.0, |event: &mut Event| {
                self.place_event(event, Some(state_name));
                (first.1)(event);
            }),
            (second.0, |event: &mut Event| {
                self.place_event(event, Some(state_name));
                (second.1)(event);
            }),
        )
    }

    /// Sets the state and lane of a new event.
    #[inline]
    fn place_event(&self, event: &mut Event, state_name: Option<&'static str>) {
        event.state = state_name.map(Cow::Borrowed);
        event.branch = self.branch.as_deref().map(str::to_owned);
    }

    /// Appends an event carrying an input and/or output payload.
    ///
    /// A payload that cannot be serialised fails the state with `States.Runtime`; nothing is
    /// recorded for it.
    pub(crate) fn record_payload<I: Serialize + ?Sized, O: Serialize + ?Sized>(
        &self,
        kind: EventType,
        state: Option<StateId>,
        input: Option<&I>,
        output: Option<&O>,
    ) -> Result<Recorded, ExecutionFailure> {
        self.record_payload_at(None, kind, state, input, output)
    }

    /// [`record_payload`](Self::record_payload) at `at` (see [`record_at`](Self::record_at)).
    pub(crate) fn record_payload_at<I: Serialize + ?Sized, O: Serialize + ?Sized>(
        &self,
        at: Option<SystemTime>,
        kind: EventType,
        state: Option<StateId>,
        input: Option<&I>,
        output: Option<&O>,
    ) -> Result<Recorded, ExecutionFailure> {
        if self.shared.recorder.is_lean() {
            // Nothing is kept, but the payload limits hold all the same.
            if let Some(value) = input {
                self.check_size(state, "input", value)?;
            }
            if let Some(value) = output {
                self.check_size(state, "output", value)?;
            }
            return Ok(self.record_at(at, kind, state, |_| {}));
        }
        let input = input
            .map(|value| self.to_json(state, "input", value))
            .transpose()?;
        let output = output
            .map(|value| self.to_json(state, "output", value))
            .transpose()?;
        Ok(self.record_at(at, kind, state, |event| {
            // Into the fields a new event has empty: no old value to drop, which an
            // assignment leaves to a call of the drop glue when it is not inlined.
            if let Some(input) = input {
                event.input.get_or_insert(input);
            }
            if let Some(output) = output {
                event.output.get_or_insert(output);
            }
        }))
    }

    /// Appends an event carrying a failure's name and cause.
    pub(crate) fn record_failure(
        &self,
        kind: EventType,
        state: Option<StateId>,
        failure: &ExecutionFailure,
    ) -> Recorded {
        self.record(kind, state, |event| {
            event.error = Some(failure.error().to_owned());
            event.cause = Some(failure.cause().to_owned());
        })
    }
}
