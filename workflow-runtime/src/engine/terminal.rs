//! Succeed and Fail states: the ends of an execution.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::States;
use workflow_core::definition::{Definition, StateId, StateKind};

use super::{Advance, ExecutionContext, StateFuture, StateOutcome};

/// Enters the Succeed state `state` with `output`, which becomes the execution's output.
pub fn enter_succeed<M, O: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    output: O,
) -> Advance<M, O> {
    let recorded = cx
        .record_payload(
            EventType::SucceedStateEntered,
            Some(state),
            Some(&output),
            None::<&()>,
        )
        .and_then(|_| {
            cx.record_payload(
                EventType::SucceedStateExited,
                Some(state),
                None::<&()>,
                Some(&output),
            )
        });
    match recorded {
        Ok(_) => Advance::Succeeded(output),
        Err(failure) => Advance::Failed(failure),
    }
}

/// Enters the Fail state `state` with `input`, which ends the execution with the state's error.
pub fn enter_fail<M, O, I: Serialize + ?Sized>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
) -> Advance<M, O> {
    fail_with(cx, state, input, (None, None))
}

/// Enters the Fail state `state` whose error name or cause `computed` works out from `input`.
pub fn enter_fail_with<M, O, I: Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
    computed: fn(&I) -> (Option<String>, Option<String>),
) -> Advance<M, O> {
    fail_with(cx, state, input, computed(input))
}

fn fail_with<M, O, I: Serialize + ?Sized>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: &I,
    computed: (Option<String>, Option<String>),
) -> Advance<M, O> {
    super::computed::enter_fail_computed(cx, state, input, || Ok(computed))
}

/// The failure the Fail state `state` ends with: its own error name and cause, or the ones
/// `computed` from its input; an empty name or cause where it gives none.
pub(crate) fn fail_failure(
    definition: &Definition,
    state: StateId,
    computed: (Option<String>, Option<String>),
) -> ExecutionFailure {
    let state_name = definition.state_name(state);
    match definition.state(state).map(|state| &state.kind) {
        Some(StateKind::Fail(fail)) => {
            let (error, cause) = computed;
            ExecutionFailure::new(
                Some(state_name),
                error.or_else(|| fail.error.clone()).unwrap_or_default(),
                cause.or_else(|| fail.cause.clone()).unwrap_or_default(),
            )
        }
        // Generated code only calls this for Fail states; say so plainly if that ever breaks.
        _ => ExecutionFailure::predefined(
            Some(state_name),
            States::Runtime,
            format!("state `{state_name}` was entered as a Fail state but is not one"),
        ),
    }
}

/// Tests the Fail state `state` whose error name or cause `computed` works out from `input`.
pub fn test_fail_in<'c, I: DeserializeOwned>(
    state: StateId,
    input: serde_json::Value,
    cx: &'c ExecutionContext<'_>,
    computed: fn(&I) -> (Option<String>, Option<String>),
) -> Option<StateFuture<'c>> {
    let failure = match serde_json::from_value::<I>(input) {
        Ok(input) => fail_failure(cx.definition(), state, computed(&input)),
        Err(error) => ExecutionFailure::predefined(
            Some(cx.state_name(state)),
            States::Runtime,
            format!("the test input does not read as the state's input: {error}"),
        ),
    };
    Some(Box::pin(std::future::ready(StateOutcome::Failed(failure))))
}
