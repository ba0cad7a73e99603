//! Tasks with nothing but their step to run (no durable write, timer, token, mock or span):
//! the step between the payload limits, awaited in place, with its events recorded when the
//! execution keeps a history. The full path of [`attempt`](super::attempt) makes a future of
//! some 800 bytes, boxed, and layers that have nothing to do; these make the same history in
//! a fraction of the time (an Express `execute` of ten states: 3.2 µs on the full path,
//! 2.4 µs here).
//!
//! Only the step's call and the polling of its future are compiled for each step (in
//! [`run_task`](super::run_task)); what comes before and after is [`DirectTask`]'s, generic
//! over the payload types at most, so that states whose steps take and return the same types
//! share it. Its steps on the way are inlined in optimised builds only: called, they cost an
//! Express `call` some 15 ns per task (`benches/express_overhead.rs`); in a debug build, the
//! calls keep what is compiled per step small (`benches/compile.sh`).

use std::time::SystemTime;

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{Callback, Payload, StepError};
use workflow_core::definition::StateId;

use super::attempt::{numbered, FailedAttempt};
use super::invoke::{callback_without_token, step_panicked, uncallable};
use super::{exit, record_failed_attempt, TaskKinds, Unusable};
use crate::engine::settings::TaskTimers;
use crate::engine::ExecutionContext;

/// Whether a task needs none of what durable writes, timers, callbacks, mocks and tracing
/// take: the execution has no journal (an Express execution: nothing to make durable, nothing
/// to replay), the task has no timeout or heartbeat, its step hands out no token (`callback`
/// says whether it does), no test replaced a step, and no subscriber wants the attempt's
/// span.
#[inline]
pub(super) fn is_direct(cx: &ExecutionContext<'_>, callback: bool, timers: &TaskTimers) -> bool {
    cx.shared.recorder.journal().is_none()
        && !callback
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

/// A direct task (see [`is_direct`]) entered: its events are recorded as the full path
/// records them when the execution keeps a history (TaskStateEntered, TaskScheduled and
/// TaskStarted, then TaskSucceeded and TaskStateExited, or TaskFailed). Without a history (a
/// synchronous `call`) it records nothing, and checks only the payload limits.
pub(super) struct DirectTask {
    state: StateId,
    state_name: &'static str,
    /// The execution keeps no history.
    lean: bool,
    /// When TaskStateEntered was recorded, for the events that follow it at once.
    entered_at: Option<SystemTime>,
}

impl DirectTask {
    /// Enters `state` with `input`: TaskStateEntered, or, without a history, the input's size
    /// checked.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn enter<I: Payload>(
        cx: &ExecutionContext<'_>,
        state: StateId,
        input: &I,
    ) -> Result<DirectTask, ExecutionFailure> {
        let lean = cx.shared.recorder.is_lean();
        let entered_at = if lean {
            cx.check_size(Some(state), "input", input)?;
            None
        } else {
            cx.record_payload(
                EventType::TaskStateEntered,
                Some(state),
                Some(input),
                None::<&()>,
            )?
            .new_time()
        };
        Ok(DirectTask {
            state,
            state_name: cx.state_name(state),
            lean,
            entered_at,
        })
    }

    /// The step's arguments could not be made (`missing`): the failure the task ends with,
    /// after TaskScheduled and TaskFailed.
    #[cold]
    pub(super) fn uncallable(
        self,
        cx: &ExecutionContext<'_>,
        missing: &dyn std::fmt::Display,
    ) -> ExecutionFailure {
        let failure = uncallable(self.state_name, missing);
        if self.lean {
            return failure;
        }
        let scheduled = TaskKinds::of(cx, self.state).scheduled;
        cx.record_at(self.entered_at, scheduled, Some(self.state), numbered(1));
        self.fail(cx, failure)
    }

    /// The step's future is made, and polled next: TaskScheduled and TaskStarted.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn started(&self, cx: &ExecutionContext<'_>) -> Result<(), ExecutionFailure> {
        if self.lean {
            return Ok(());
        }
        let kinds = TaskKinds::of(cx, self.state);
        cx.record_two_at(
            self.entered_at,
            self.state,
            (kinds.scheduled, numbered(1)),
            (kinds.started, numbered(1)),
        );
        // Nothing to make durable, but a halted history (over its limit) ends the execution
        // here.
        match cx.shared.recorder.settled() {
            Some(Err(halted)) => Err(halted),
            _ => Ok(()),
        }
    }

    /// The end of the task, from what step `step` returned (`Err`: the message of its panic),
    /// made its output by `into_output`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn finish<R, E: StepError, O: Payload>(
        self,
        cx: &ExecutionContext<'_>,
        step: &str,
        returned: Result<Result<R, E>, String>,
        into_output: fn(R) -> Result<O, Callback<O>>,
    ) -> Result<O, ExecutionFailure> {
        let failure = match returned {
            Ok(Ok(returned)) => match into_output(returned) {
                Ok(output) => return self.succeeded(cx, output),
                Err(_callback) => callback_without_token(self.state_name),
            },
            Ok(Err(error)) => ExecutionFailure::from_step_error(self.state_name, error),
            Err(message) => step_panicked(step, self.state_name, &message),
        };
        Err(self.failed(cx, failure))
    }

    /// The step returned `output`: TaskSucceeded and TaskStateExited, or, without a history,
    /// the output's size checked.
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn succeeded<O: Payload>(
        self,
        cx: &ExecutionContext<'_>,
        output: O,
    ) -> Result<O, ExecutionFailure> {
        if self.lean {
            cx.check_size(Some(self.state), "output", &output)?;
            return Ok(output);
        }
        match exit(cx, self.state, output, Ok) {
            Ok(output) => Ok(output),
            Err(Unusable::FailedAttempt(failed)) => Err(self.failed(cx, failed.failure)),
            Err(Unusable::FailsState(failure)) => Err(failure),
        }
    }

    /// The attempt failed with `failure`: the failure the task ends with.
    fn failed(self, cx: &ExecutionContext<'_>, failure: ExecutionFailure) -> ExecutionFailure {
        if self.lean {
            return failure;
        }
        self.fail(cx, failure)
    }

    /// TaskFailed, and the failure (or the history's, if it halted).
    fn fail(self, cx: &ExecutionContext<'_>, failure: ExecutionFailure) -> ExecutionFailure {
        let failed = FailedAttempt::from(failure);
        record_failed_attempt(cx, self.state, &failed, None);
        match cx.shared.recorder.settled() {
            Some(Err(halted)) => halted,
            _ => failed.failure,
        }
    }
}
