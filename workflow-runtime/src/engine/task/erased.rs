//! The step seen without its types, for the layers of an attempt (timers, callbacks, replay):
//! its future boxed, with its output boxed as `dyn Any`, and the few facts about it those
//! layers need. Each layer is then compiled once rather than once for every step of every
//! workflow: generic over the step, they were a third of the code a workflow of many states
//! made (by `cargo llvm-lines`), for a box or two per attempt on the recorded path, which
//! allocates for its events anyway.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::step::{States, Step, StepEnv};

use super::attempt::FailedAttempt;
use super::invoke::Invocation;

/// A step's output, its type erased.
pub(crate) type AnyOutput = Box<dyn Any + Send>;

/// What a completed callback was answered with at once: an output, or an error and cause.
pub(crate) type Answer = Result<serde_json::Value, (String, String)>;

/// What a step's future resolved to, its types erased.
pub(crate) enum Returned {
    /// The step's output.
    Output(AnyOutput),
    /// The step handed out its token: the attempt waits for it, or takes the answer a
    /// stand-in gave at once.
    Callback(Option<Answer>),
    /// The step's error, as the failure it makes.
    Failed(ExecutionFailure),
}

/// A step's future, its types erased.
pub(crate) type Running = Pin<Box<dyn Future<Output = Returned> + Send>>;

/// Makes the call of one attempt: the step's future (or a mock's) for the attempt's input,
/// which it holds, under the attempt's environment.
pub(super) type MakeCall<'m> = dyn FnMut(&ExecutionContext<'_>, &'static str, &StepEnv<'_>) -> Result<Invocation, FailedAttempt>
    + Send
    + 'm;

impl Returned {
    /// What step `S`'s future resolved to (in state `state_name`), its types erased.
    pub(super) fn of_step<S: Step>(
        state_name: &'static str,
        result: Result<S::Returned, S::Error>,
    ) -> Returned {
        match result.map(S::into_output) {
            Ok(Ok(output)) => Returned::Output(Box::new(output)),
            Ok(Err(callback)) => Returned::Callback(callback.answer()),
            Err(error) => Returned::Failed(ExecutionFailure::from_step_error(state_name, error)),
        }
    }
}

/// What the layers of an attempt need to know of its step.
#[derive(Clone, Copy)]
pub(crate) struct StepTypes {
    /// The step's name.
    pub(crate) name: &'static str,
    /// Whether the step hands out a task token.
    pub(crate) callback: bool,
    output_type: &'static str,
    decode: fn(serde_json::Value) -> Result<AnyOutput, serde_json::Error>,
}

impl StepTypes {
    /// Those of step `S`.
    pub(crate) fn of<S: Step>() -> StepTypes {
        StepTypes {
            name: S::INFO.name(),
            callback: S::CALLBACK,
            output_type: std::any::type_name::<S::Output>(),
            decode: decode::<S::Output>,
        }
    }

    /// The name of the step's output type, for messages.
    pub(crate) fn output_type(&self) -> &'static str {
        self.output_type
    }

    /// Reads `value` (a stored output, a callback's) as the step's output.
    pub(crate) fn decode(&self, value: serde_json::Value) -> Result<AnyOutput, serde_json::Error> {
        (self.decode)(value)
    }
}

fn decode<O: crate::step::Payload>(
    value: serde_json::Value,
) -> Result<AnyOutput, serde_json::Error> {
    serde_json::from_value::<O>(value).map(|output| Box::new(output) as AnyOutput)
}

/// A step's call, for an attempt's input: [`invoke`](super::invoke::invoke) of the step.
pub(super) type CallStep<I> =
    fn(&ExecutionContext<'_>, &'static str, I, &StepEnv<'_>) -> Result<Invocation, FailedAttempt>;

/// The maker of one attempt's call, through `call`, with `input`.
pub(super) fn make_call<I: Send>(
    call: CallStep<I>,
    input: I,
) -> impl FnMut(&ExecutionContext<'_>, &'static str, &StepEnv<'_>) -> Result<Invocation, FailedAttempt>
       + Send {
    let mut input = Some(input);
    move |cx, state_name, env| match input.take() {
        Some(input) => call(cx, state_name, input, env),
        // An attempt makes its call once; a second call would find no input.
        None => Err(FailedAttempt::from(not_held(
            state_name,
            "its attempt's input",
        ))),
    }
}

/// What the typed side of a task should hold and does not (`what`: an attempt's input taken
/// twice, an outcome not kept). Not met in a correct build; a failure of the state rather
/// than a panic all the same.
#[cold]
pub(super) fn not_held(state_name: &str, what: &str) -> ExecutionFailure {
    ExecutionFailure::predefined(
        Some(state_name),
        States::Runtime,
        format!("the task state lost track of {what} (a defect of the workflow runtime)"),
    )
}

/// The output of an attempt of `step`, as its type `R` again.
pub(super) fn typed<R: 'static>(
    state_name: &'static str,
    step: &StepTypes,
    output: AnyOutput,
) -> Result<R, ExecutionFailure> {
    match output.downcast::<R>() {
        Ok(output) => Ok(*output),
        Err(_) => Err(not_typed(state_name, step.name, step.output_type())),
    }
}

/// Only the attempt of a step makes its output: not met in a correct build.
#[cold]
fn not_typed(state_name: &str, step: &str, output_type: &str) -> ExecutionFailure {
    ExecutionFailure::predefined(
        Some(state_name),
        States::Runtime,
        format!("the output of step `{step}` did not come back as `{output_type}`"),
    )
}
