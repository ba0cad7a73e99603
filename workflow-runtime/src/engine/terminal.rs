//! Succeed and Fail states: the ends of an execution.

use serde::Serialize;

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::States;
use workflow_core::definition::{StateId, StateKind};

use super::{Advance, ExecutionContext};

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
    if let Err(failure) = cx.record_payload(
        EventType::FailStateEntered,
        Some(state),
        Some(input),
        None::<&()>,
    ) {
        return Advance::Failed(failure);
    }
    let state_name = cx.state_name(state);
    let failure = match cx.definition().state(state).map(|state| &state.kind) {
        Some(StateKind::Fail(fail)) => ExecutionFailure::new(
            Some(state_name),
            fail.error.clone(),
            fail.cause.clone().unwrap_or_default(),
        ),
        // Generated code only calls this for Fail states; say so plainly if that ever breaks.
        _ => ExecutionFailure::predefined(
            Some(state_name),
            States::Runtime,
            format!("state `{state_name}` was entered as a Fail state but is not one"),
        ),
    };
    Advance::Failed(failure)
}
