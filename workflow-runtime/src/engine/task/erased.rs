//! The step seen without its types, for the layers of an attempt (timers, callbacks, replay):
//! its future boxed, with its output boxed as `dyn Any`, and the few facts about it those
//! layers need. Each layer is then compiled once rather than once for every step of every
//! workflow: generic over the step, they were a third of the code a workflow of many states
//! made (by `cargo llvm-lines`), for a box or two per attempt on the recorded path, which
//! allocates for its events anyway.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::step::{Callback, Payload, States, StepEnv, StepError};

use super::attempt::FailedAttempt;
use super::invoke::Invocation;

pub(crate) use crate::step::facts::{AnyOutput, StepFacts};

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
    /// What a step's future resolved to (`result`, in state `state_name`), made its output by
    /// `into_output`, its types erased.
    fn of<R, E: StepError, O: Payload>(
        state_name: &'static str,
        result: Result<R, E>,
        into_output: fn(R) -> Result<O, Callback<O>>,
    ) -> Returned {
        match result.map(into_output) {
            Ok(Ok(output)) => Returned::Output(Box::new(output)),
            Ok(Err(callback)) => Returned::Callback(callback.answer()),
            Err(error) => Returned::Failed(ExecutionFailure::from_step_error(state_name, error)),
        }
    }
}

pin_project_lite::pin_project! {
    /// A step's future `F` whose result is erased as it completes: a type with a `poll` of a
    /// few lines (an `async` block around `F`, compiled again for every step, made some 200
    /// lines of code for each).
    pub(super) struct Erasing<F, R, E, O> {
        #[pin]
        running: F,
        state_name: &'static str,
        into_output: fn(R) -> Result<O, Callback<O>>,
        error: PhantomData<fn() -> E>,
    }
}

impl<F, R, E, O> Erasing<F, R, E, O> {
    /// `running` (of a step whose returned value `into_output` makes its output, in state
    /// `state_name`), its result to be erased.
    pub(super) fn new(
        running: F,
        state_name: &'static str,
        into_output: fn(R) -> Result<O, Callback<O>>,
    ) -> Self {
        Erasing {
            running,
            state_name,
            into_output,
            error: PhantomData,
        }
    }
}

impl<F, R, E, O> Future for Erasing<F, R, E, O>
where
    F: Future<Output = Result<R, E>>,
    E: StepError,
    O: Payload,
{
    type Output = Returned;

    fn poll(self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Returned> {
        let this = self.project();
        match this.running.poll(task) {
            Poll::Ready(result) => {
                Poll::Ready(Returned::of(this.state_name, result, *this.into_output))
            }
            Poll::Pending => Poll::Pending,
        }
    }
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
    step: &StepFacts,
    output: AnyOutput,
) -> Result<R, ExecutionFailure> {
    match output.downcast::<R>() {
        Ok(output) => Ok(*output),
        Err(_) => Err(not_typed(state_name, step.name(), step.output_type())),
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
