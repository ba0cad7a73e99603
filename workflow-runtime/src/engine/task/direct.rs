//! Tasks with nothing but their step to run (no durable write, timer, token, mock or span):
//! the step between the payload limits, awaited in place, with its events recorded when the
//! execution keeps a history. The full path of [`attempt`](super::attempt) makes a future of
//! some 800 bytes, boxed, and layers that have nothing to do; these make the same history in
//! a fraction of the time (an Express `execute` of ten states: 3.2 µs on the full path,
//! 2.4 µs here).

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::Step;
use workflow_core::definition::StateId;

use super::attempt::{numbered, FailedAttempt};
use super::invoke::{callback_without_token, step_panicked, uncallable};
use super::{exit, record_failed_attempt, TaskKinds, Unusable};
use crate::engine::panic;
use crate::engine::settings::TaskTimers;
use crate::engine::ExecutionContext;

/// Whether a task needs none of what durable writes, timers, callbacks, mocks and tracing
/// take: the execution has no journal (an Express execution: nothing to make durable, nothing
/// to replay), the task has no timeout or heartbeat, its step hands out no token, no test
/// replaced a step, and no subscriber wants the attempt's span.
#[inline]
pub(super) fn is_direct<S: Step>(cx: &ExecutionContext<'_>, timers: &TaskTimers) -> bool {
    cx.shared.recorder.journal().is_none()
        && !S::CALLBACK
        && timers.is_none()
        && !mocked(cx)
        && !cx.shared.traced
}

/// Whether a test replaced steps of this runtime.
#[cfg(feature = "testing")]
fn mocked(cx: &ExecutionContext<'_>) -> bool {
    cx.shared.resources.mocks.is_some()
}

#[cfg(not(feature = "testing"))]
fn mocked(_cx: &ExecutionContext<'_>) -> bool {
    false
}

/// A task with nothing but its step to run (see [`is_direct`]): the step between the payload
/// limits, awaited in place, its events recorded as the full path records them when the
/// execution keeps a history (TaskStateEntered, TaskScheduled and TaskStarted, then
/// TaskSucceeded and TaskStateExited, or TaskFailed), in a future a fraction of that path's
/// size. Without a history (a synchronous `call`) it records nothing, and checks only the
/// payload limits: one function for both, as each is compiled again for every step.
pub(super) async fn run_direct<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: S::Input,
) -> Result<S::Output, ExecutionFailure> {
    let state_name = cx.state_name(state);
    let lean = cx.shared.recorder.is_lean();
    let entered_at = if lean {
        cx.check_size(Some(state), "input", &input)?;
        None
    } else {
        cx.record_payload(
            EventType::TaskStateEntered,
            Some(state),
            Some(&input),
            None::<&()>,
        )?
        .new_time()
    };
    let env = cx.step_env(state, S::INFO.name(), 1, None, None);
    // `call` runs none of the step's code (it builds its future): only polling it is guarded,
    // in place.
    let running = match S::call(input, &env) {
        Ok(running) => running,
        Err(missing) => {
            let failure = uncallable(state_name, &missing);
            if lean {
                return Err(failure);
            }
            let scheduled = TaskKinds::of(cx, state).scheduled;
            cx.record_at(entered_at, scheduled, Some(state), numbered(1));
            return fail_direct(cx, state, failure);
        }
    };
    if !lean {
        let kinds = TaskKinds::of(cx, state);
        cx.record_two_at(
            entered_at,
            state,
            (kinds.scheduled, numbered(1)),
            (kinds.started, numbered(1)),
        );
        // Nothing to make durable, but a halted history (over its limit) ends the execution
        // here.
        if let Some(Err(halted)) = cx.shared.recorder.settled() {
            return Err(halted);
        }
    }
    let mut running = std::pin::pin!(running);
    let returned = std::future::poll_fn(|task| panic::poll_catching(running.as_mut(), task)).await;
    let failure = match returned {
        Ok(Ok(returned)) => match S::into_output(returned) {
            Ok(output) if lean => {
                cx.check_size(Some(state), "output", &output)?;
                return Ok(output);
            }
            Ok(output) => match exit(cx, state, output, Ok) {
                Ok(output) => return Ok(output),
                Err(Unusable::FailedAttempt(failed)) => failed.failure,
                Err(Unusable::FailsState(failure)) => return Err(failure),
            },
            Err(_callback) => callback_without_token(state_name),
        },
        Ok(Err(error)) => ExecutionFailure::from_step_error(state_name, error),
        Err(message) => step_panicked(S::INFO.name(), state_name, &message),
    };
    if lean {
        return Err(failure);
    }
    fail_direct(cx, state, failure)
}

/// The end of a direct task whose attempt failed: TaskFailed, and the failure (or the
/// history's, if it halted).
fn fail_direct<T>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    failure: ExecutionFailure,
) -> Result<T, ExecutionFailure> {
    let failed = FailedAttempt::from(failure);
    record_failed_attempt(cx, state, &failed, None);
    if let Some(Err(halted)) = cx.shared.recorder.settled() {
        return Err(halted);
    }
    Err(failed.failure)
}
