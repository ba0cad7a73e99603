//! What a step can take besides its payload: its context and shared resources.

use std::any::{type_name, TypeId};
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::callback::TaskToken;
use crate::clock::Clock;
use crate::engine::Shared;
use crate::execution::ExecutionId;

/// Everything the engine offers a step's arguments; see [`StepArg`].
#[derive(Debug)]
pub struct StepEnv<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) state: &'static str,
    pub(crate) step: &'static str,
    pub(crate) attempt: u32,
    pub(crate) heartbeat: Option<&'a Arc<Heartbeat>>,
    /// The attempt's task token, for a callback step.
    pub(crate) token: Option<&'a TaskToken>,
}

/// The heartbeat of one task attempt: when the step last reported that it is alive.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    clock: Arc<dyn Clock>,
    last: Mutex<SystemTime>,
}

impl Heartbeat {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        Heartbeat {
            clock,
            last: Mutex::new(now),
        }
    }

    pub(crate) fn beat(&self) {
        let now = self.clock.now();
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Completes once `interval` has passed without a beat.
    pub(crate) async fn expired(&self, interval: Duration) {
        loop {
            let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
            let deadline = last + interval;
            match deadline.duration_since(self.clock.now()) {
                Ok(left) if !left.is_zero() => self.clock.sleep(left).await,
                _ => return,
            }
        }
    }
}

impl StepEnv<'_> {
    /// The definition of the workflow the step runs in: for a workflow defined at run time,
    /// where its Task states say what runs them. Not a public API.
    #[doc(hidden)]
    pub fn workflow_definition(&self) -> &'static workflow_core::definition::Definition {
        self.shared.definition
    }
}

/// A resource a step needs from the runtime, reported by [`StepArg::requirement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub(crate) type_id: TypeId,
    /// The type of an `Arc<T>` added as a resource of its own (`resource(Arc::new(..))`),
    /// which a `Res<T>` does not find: said in the error.
    pub(crate) arc_type_id: TypeId,
    pub(crate) type_name: &'static str,
}

impl Requirement {
    /// The requirement of a resource of type `T`.
    pub fn resource<T: ?Sized + 'static>() -> Self {
        Requirement {
            type_id: TypeId::of::<T>(),
            arc_type_id: TypeId::of::<std::sync::Arc<T>>(),
            type_name: type_name::<T>(),
        }
    }

    /// The resource's type name, as `std::any::type_name` spells it.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

/// A step argument could not be provided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ArgumentError {
    message: String,
}

impl ArgumentError {
    /// Step `step` needs a resource of type `resource` that the runtime lacks.
    pub(crate) fn missing_resource(step: &str, resource: &str) -> Self {
        ArgumentError {
            message: format!(
                "step `{step}` needs the resource `{resource}`, which the runtime does not have; add it with `RuntimeBuilder::resource`"
            ),
        }
    }

    /// Anything else that keeps an argument from being built.
    pub(crate) fn new(message: String) -> Self {
        ArgumentError { message }
    }
}

/// A type a step can take after its payload: [`StepContext`] or [`Res<T>`].
///
/// The engine builds each such argument from the [`StepEnv`] before the step runs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a step argument",
    label = "after the payload, a step takes only `StepContext` and `Res<T>` arguments",
    note = "the first argument is the payload; put everything the state receives into that one type"
)]
pub trait StepArg: Sized {
    /// The resource this argument needs from the runtime, if any; checked when a workflow is
    /// registered.
    fn requirement() -> Option<Requirement>;

    /// Builds the argument for one attempt of a step.
    fn extract(env: &StepEnv<'_>) -> Result<Self, ArgumentError>;
}

/// Where a step is running: execution, workflow, state and attempt.
///
/// Take it as an argument after the payload:
///
/// ```
/// use workflow::prelude::*;
///
/// #[step]
/// async fn audit(line: String, ctx: StepContext) -> String {
///     format!("{} (execution {}, attempt {})", line, ctx.execution_id(), ctx.attempt())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct StepContext {
    execution_id: ExecutionId,
    workflow: &'static str,
    state: &'static str,
    step: &'static str,
    attempt: u32,
    heartbeat: Option<Arc<Heartbeat>>,
}

impl StepContext {
    /// The context of a call without a heartbeat.
    pub(crate) fn new(
        execution_id: ExecutionId,
        workflow: &'static str,
        state: &'static str,
        step: &'static str,
        attempt: u32,
    ) -> Self {
        StepContext {
            execution_id,
            workflow,
            state,
            step,
            attempt,
            heartbeat: None,
        }
    }

    /// The execution this step belongs to.
    pub fn execution_id(&self) -> &ExecutionId {
        &self.execution_id
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &'static str {
        self.workflow
    }

    /// The name of the state running this step.
    pub fn state(&self) -> &'static str {
        self.state
    }

    /// The step's name.
    pub fn step(&self) -> &'static str {
        self.step
    }

    /// Which attempt this is: 1 for the first run, 2 for the first retry, and so on.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Reports that the step is alive. A state with a `heartbeat` interval times out when a
    /// step stays silent for longer than that (`States.Timeout`, which retriers and catchers
    /// for `States.HeartbeatTimeout` match too); without one this does nothing.
    pub fn heartbeat(&self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.beat();
        }
    }
}

impl StepArg for StepContext {
    fn requirement() -> Option<Requirement> {
        None
    }

    fn extract(env: &StepEnv<'_>) -> Result<Self, ArgumentError> {
        Ok(StepContext {
            execution_id: env.shared.id().clone(),
            workflow: env.shared.definition.name.as_str(),
            state: env.state,
            step: env.step,
            attempt: env.attempt,
            heartbeat: env.heartbeat.cloned(),
        })
    }
}

/// A shared resource registered on the runtime: a connection pool, an HTTP client, a fake in
/// tests.
///
/// Register it once with [`RuntimeBuilder::resource`](crate::RuntimeBuilder::resource) (or
/// [`resource_arc`](crate::RuntimeBuilder::resource_arc) for trait objects) and take `Res<T>`
/// in any step that needs it. A workflow whose steps need a resource the runtime lacks is
/// refused when the runtime is built.
///
/// ```
/// use workflow::prelude::*;
///
/// struct Mailer { from: String }
///
/// #[step]
/// async fn notify(to: String, mailer: Res<Mailer>) -> String {
///     format!("mail from {} to {}", mailer.from, to)
/// }
/// ```
pub struct Res<T: ?Sized>(Arc<T>);

impl<T: ?Sized> Res<T> {
    /// The shared handle to the resource.
    pub fn arc(&self) -> &Arc<T> {
        &self.0
    }
}

impl<T: ?Sized> Clone for Res<T> {
    fn clone(&self) -> Self {
        Res(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for Res<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Res<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Res").field(&&*self.0).finish()
    }
}

impl<T: ?Sized + Send + Sync + 'static> StepArg for Res<T> {
    fn requirement() -> Option<Requirement> {
        Some(Requirement::resource::<T>())
    }

    fn extract(env: &StepEnv<'_>) -> Result<Self, ArgumentError> {
        env.shared
            .resources
            .get::<T>()
            .map(Res)
            .ok_or_else(|| ArgumentError::missing_resource(env.step, type_name::<T>()))
    }
}
