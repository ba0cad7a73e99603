//! Calling the step: its future (built without running any of its code), polled with its
//! panics caught, and the callback it may return awaited. With the `testing` feature, a mock
//! registered for the step may answer instead ([`mocked`](super::mocked)).

use std::sync::Arc;

use crate::engine::callback;
use crate::engine::panic;
use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::step::{Heartbeat, States, Step, StepEnv};
use workflow_core::definition::StateId;

use super::attempt::FailedAttempt;
use super::erased::{AnyOutput, Erasing, Returned as Erased, Running, StepFacts};

/// The future of one attempt's call, not yet polled.
pub(super) struct Invocation {
    pub(super) running: Running,
    /// Whether the step's own code runs (not a mock): only then is its callback stored.
    pub(super) real: bool,
}

/// The call of one attempt: the step's own future for `input`, its types erased (with the
/// `testing` feature, when no mock answers instead).
pub(super) fn call<S: Step>(
    _cx: &ExecutionContext<'_>,
    state_name: &'static str,
    input: S::Input,
    env: &StepEnv<'_>,
) -> Result<Invocation, FailedAttempt> {
    // `call` runs none of the step's code (it builds its future).
    match S::call(input, env) {
        Ok(running) => Ok(Invocation {
            running: Box::pin(Erasing::new(running, state_name, S::into_output)),
            real: true,
        }),
        Err(missing) => Err(FailedAttempt::from(uncallable(state_name, &missing))),
    }
}

/// The call of one attempt.
#[cfg(not(feature = "testing"))]
pub(super) use self::call as invoke;

#[cfg(feature = "testing")]
pub(super) use super::mocked::invoke;

/// Polls `running` to its end, a panic failing the attempt as a task failure; a callback it
/// returns is then awaited (with `token_hash`, the attempt's stored callback).
pub(super) async fn settle(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &StepFacts,
    mut running: Running,
    token_hash: Option<&str>,
    heartbeat: Option<&Arc<Heartbeat>>,
) -> Result<AnyOutput, ExecutionFailure> {
    let state_name = cx.state_name(state);
    let polled = std::future::poll_fn(|task| panic::poll_catching(running.as_mut(), task));
    match polled.await {
        Ok(Erased::Output(output)) => Ok(output),
        Ok(Erased::Callback(answer)) => match token_hash {
            Some(hash) => {
                // A stand-in that answers at once completes the token itself; the attempt
                // then waits for it as for any other.
                if let Some(answer) = answer {
                    Box::pin(callback::answer(cx, state, hash, answer)).await?;
                }
                Box::pin(callback::wait(cx, state, step, hash, heartbeat)).await
            }
            None => Err(callback_without_token(state_name)),
        },
        Ok(Erased::Failed(failure)) => Err(failure),
        Err(message) => Err(step_panicked(step.name(), state_name, &message)),
    }
}

/// A step's arguments could not be made (a resource the runtime lacks): the attempt fails
/// with `States.Runtime`.
pub(super) fn uncallable(state_name: &str, missing: &dyn std::fmt::Display) -> ExecutionFailure {
    ExecutionFailure::predefined(Some(state_name), States::Runtime, missing.to_string())
}

/// A step (or the mock standing in for it) panicked: its attempt failed, as a task does.
pub(super) fn step_panicked(step: &str, state_name: &str, message: &str) -> ExecutionFailure {
    ExecutionFailure::predefined(
        Some(state_name),
        States::TaskFailed,
        format!("step `{step}` panicked: {message}"),
    )
}

/// A step returned a callback, but its attempt handed out no token to wait for.
pub(super) fn callback_without_token(state_name: &str) -> ExecutionFailure {
    ExecutionFailure::predefined(
        Some(state_name),
        States::Runtime,
        "the step returned a callback without a token to wait for",
    )
}
