//! Standard and Express as one value: what a workflow's mode means for running its
//! executions here. Every difference between the modes in the runtime is a method of
//! [`Policy`], rather than a test of the mode where it matters.

use std::sync::Arc;

use super::admission::{Admission, Admitted};
use super::{Backpressure, Runtime, RuntimeError};
use crate::engine::Machine;
use crate::engine::Shared;
use crate::execution::ExecutionId;
use crate::history::Event;
use crate::store::Fence;
use workflow_core::definition::Definition;
use workflow_core::Mode;

/// An execution to run here: new (its stored history is its ExecutionStarted), or stored
/// (recovered, claimed, woken or redriven).
pub(super) struct Run<I> {
    pub(super) id: ExecutionId,
    pub(super) input: I,
    /// When its timeout counts from: its start, or its latest redrive.
    pub(super) started_at: std::time::SystemTime,
    /// Its history so far, replayed before it goes on.
    pub(super) stored: Vec<Event>,
    /// How its workflow's definition changed since it started, if it did.
    pub(super) change: Option<String>,
    /// The lease this runtime holds on it.
    pub(super) fence: Fence,
    /// The room an Express execution was admitted with, if it was.
    pub(super) permit: Option<Admitted>,
}

/// How executions of one workflow run, by its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Policy {
    /// Durable: every event is stored as it happens, a resumed execution replays its history
    /// (at most once per task), and an ended one can be redriven.
    Standard,
    /// In memory, within the concurrency limit, its events going to the log: only its start
    /// and end are stored, and an unfinished one runs again from its start (at least once).
    Express,
}

impl Policy {
    /// The policy of `definition`'s mode.
    pub(super) fn of(definition: &Definition) -> Self {
        match definition.mode {
            Mode::Express => Policy::Express,
            _ => Policy::Standard,
        }
    }

    /// Lets one more execution in: an Express execution takes a permit of the concurrency
    /// limit (waiting for one, or refused, as the backpressure setting says) that it holds
    /// while it runs; a Standard one needs none.
    pub(super) async fn admit(self, runtime: &Runtime) -> Result<Option<Admitted>, RuntimeError> {
        self.admit_to(
            runtime,
            Arc::clone(&runtime.inner.scheduler.express.admission),
        )
        .await
    }

    /// [`admit`](Self::admit), for an execution that runs in its caller, while it borrows
    /// `runtime`.
    pub(super) async fn admit_here(
        self,
        runtime: &Runtime,
    ) -> Result<Option<Admitted<&Admission>>, RuntimeError> {
        self.admit_to(runtime, &*runtime.inner.scheduler.express.admission)
            .await
    }

    async fn admit_to<A: AsRef<Admission>>(
        self,
        runtime: &Runtime,
        admission: A,
    ) -> Result<Option<Admitted<A>>, RuntimeError> {
        if self == Policy::Standard {
            return Ok(None);
        }
        let limit = admission.as_ref().limit();
        let admitted = match runtime.inner.scheduler.express.when_full {
            Backpressure::Wait => Some(Admission::admit(admission).await),
            Backpressure::Refuse => Admission::try_admit(admission),
        };
        admitted.map(Some).ok_or(RuntimeError::Overloaded { limit })
    }

    /// Sends `shared`'s events also where the mode sends them: an Express execution's to the
    /// log sink, if logging is on.
    pub(super) fn observe(self, runtime: &Runtime, shared: &mut Shared, workflow: &'static str) {
        if let (Policy::Express, Some(sink)) = (self, &runtime.inner.sink) {
            let id = shared.id().clone();
            shared.recorder.log_to(Arc::clone(sink), id, workflow);
        }
    }

    /// Runs an execution of `definition` (machine `M`) here, in the background: from its
    /// stored history under its lease (Standard), or from its start, in memory, with
    /// `run.permit` or one it waits for (Express).
    pub(super) fn run<M: Machine>(
        self,
        runtime: &Runtime,
        definition: &'static Definition,
        run: Run<M::Input>,
    ) {
        match self {
            Policy::Standard => runtime.spawn::<M>(definition, run),
            Policy::Express => {
                runtime.spawn_express::<M>(definition, run.id, run.input, run.permit);
            }
        }
    }

    /// Whether the engine records the start of an execution created in the store anew (an
    /// Express one runs from its start in memory) rather than replaying the stored one
    /// (Standard): where a new execution is counted as started, once.
    pub(super) fn engine_records_start(self) -> bool {
        self == Policy::Express
    }

    /// Whether an ended execution can run again from where it failed: an Express one keeps
    /// no per-state history to redrive from.
    pub(super) fn redrivable(self) -> bool {
        self == Policy::Standard
    }
}
