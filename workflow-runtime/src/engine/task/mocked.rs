//! With the `testing` feature: a mock registered for the step answers the attempt instead of
//! the step's code, or hands the input to the real step, or refuses the attempt.

use futures_util::FutureExt;

use crate::engine::doubles::Response;
use crate::engine::panic;
use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::step::{States, Step, StepEnv};

use super::attempt::FailedAttempt;
use super::erased::Returned;
use super::invoke::{call, step_panicked, Invocation};

/// The call of one attempt: a mock's answer, or the step's own future.
pub(in crate::engine::task) fn invoke<S: Step>(
    cx: &ExecutionContext<'_>,
    state_name: &'static str,
    input: S::Input,
    env: &StepEnv<'_>,
) -> Result<Invocation, FailedAttempt> {
    let mock = cx
        .shared
        .resources
        .mocks
        .as_ref()
        .and_then(|mocks| mocks.get::<S>(state_name));
    let real = |input| call::<S>(cx, state_name, input, env);
    let Some(mock) = mock else {
        return real(input);
    };
    // A mock's `respond` may run test code: its panic fails the attempt as the step's would.
    let response = panic::catching_call(|| mock.respond(input)).map_err(|message| {
        FailedAttempt::from(step_panicked(S::INFO.name(), state_name, &message))
    })?;
    match response {
        // A mocked callback step answers with its output.
        Response::Run(mocked) => Ok(Invocation {
            running: Box::pin(mocked.map(move |result| match result {
                Ok(output) => Returned::Output(Box::new(output)),
                Err(error) => {
                    Returned::Failed(ExecutionFailure::from_step_error(state_name, error))
                }
            })),
            real: false,
        }),
        Response::Real(input) => real(input),
        Response::Refuse(reason) => Err(FailedAttempt::from(ExecutionFailure::predefined(
            Some(state_name),
            States::Runtime,
            reason,
        ))),
    }
}
