//! Task states: run a step and record every phase of it.

use crate::definition::StateId;
use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{States, Step, StepError};

use super::ExecutionContext;

/// Runs the Task state `state` with step `S` on `input`.
///
/// Records TaskStateEntered, TaskScheduled, TaskStarted, then TaskSucceeded and TaskStateExited,
/// or TaskFailed. Returns the step's output, or the failure that ends the state.
pub async fn run_task<S: Step>(
    cx: &mut ExecutionContext<'_>,
    state: StateId,
    input: S::Input,
) -> Result<S::Output, ExecutionFailure> {
    let state_name = cx.state_name(state);
    cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    )?;
    let attempt = 1;
    cx.record(EventType::TaskScheduled, Some(state), |event| {
        event.attempt = Some(attempt)
    });
    let running = match S::call(input, &cx.step_env(state, S::INFO.name(), attempt)) {
        Ok(running) => running,
        Err(missing) => {
            let failure = ExecutionFailure::predefined(
                Some(state_name),
                States::Runtime,
                missing.to_string(),
            );
            cx.record_failure(EventType::TaskFailed, Some(state), &failure);
            return Err(failure);
        }
    };
    cx.record(EventType::TaskStarted, Some(state), |event| {
        event.attempt = Some(attempt)
    });
    match running.await {
        Ok(output) => {
            cx.record_payload(
                EventType::TaskSucceeded,
                Some(state),
                None::<&()>,
                Some(&output),
            )?;
            cx.record_payload(
                EventType::TaskStateExited,
                Some(state),
                None::<&()>,
                Some(&output),
            )?;
            Ok(output)
        }
        Err(error) => {
            let name = error.error_name();
            let failure = ExecutionFailure::from_step_error(state_name, error);
            debug_assert_eq!(failure.error(), name);
            cx.record_failure(EventType::TaskFailed, Some(state), &failure);
            Err(failure)
        }
    }
}
