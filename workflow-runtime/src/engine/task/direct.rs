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
//! share it.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{Callback, Payload, StepError};
use workflow_core::definition::StateId;

use super::attempt::{numbered, FailedAttempt};
use super::invoke::{callback_without_token, step_panicked, uncallable};
use super::{exit, record_failed_attempt, TaskKinds, Unusable};
use crate::engine::panic;
use crate::engine::settings::TaskTimers;
use crate::engine::ExecutionContext;

/// Whether a task needs none of what durable writes, timers, callbacks, mocks and tracing
/// take: the execution has no journal (an Express execution: nothing to make durable, nothing
/// to replay), the task has no timeout or heartbeat, its step (`callback`: whether it hands
/// out a token) hands out no token, no test replaced a step, and no subscriber wants the
/// attempt's span.
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

/// How a direct task ends once its step's future has: [`DirectTask::finish`] with the step's
/// name and `into_output`.
pub(super) struct Finish<'c, 'e, R, E, O> {
    cx: &'c ExecutionContext<'e>,
    task: DirectTask,
    step: &'static str,
    into_output: fn(R) -> Result<O, Callback<O>>,
    error: PhantomData<fn() -> E>,
}

/// The full path's future of a task, boxed.
type Full<'c, O> = Pin<Box<dyn Future<Output = Result<O, ExecutionFailure>> + Send + 'c>>;

pin_project_lite::pin_project! {
    /// The future of a Task state without retriers or catchers ([`run_task`](super::run_task)):
    /// on the direct path, the step's own future `F`, polled in place; on the full path, its
    /// future, boxed; or the task's end, known before any step ran. A type rather than an
    /// `async fn`, whose state machine, compiled again for every step, was most of the code
    /// a workflow made; this one's `poll` is a few lines.
    #[project = TaskRunProjection]
    pub(super) enum TaskRun<'c, 'e, F, R, E, O> {
        Direct {
            #[pin]
            running: F,
            finish: Option<Finish<'c, 'e, R, E, O>>,
        },
        Full {
            full: Full<'c, O>,
        },
        Ended {
            ended: Option<Result<O, ExecutionFailure>>,
        },
    }
}

impl<'c, 'e, F, R, E, O> TaskRun<'c, 'e, F, R, E, O> {
    /// The task's step runs `running` on the direct path, started as `task`.
    pub(super) fn direct(
        cx: &'c ExecutionContext<'e>,
        task: DirectTask,
        running: F,
        step: &'static str,
        into_output: fn(R) -> Result<O, Callback<O>>,
    ) -> Self {
        TaskRun::Direct {
            running,
            finish: Some(Finish {
                cx,
                task,
                step,
                into_output,
                error: PhantomData,
            }),
        }
    }

    /// The task runs on the full path, in `full`.
    pub(super) fn full(full: Full<'c, O>) -> Self {
        TaskRun::Full { full }
    }

    /// The task ended with `ended` before its step ran.
    pub(super) fn ended(ended: Result<O, ExecutionFailure>) -> Self {
        TaskRun::Ended { ended: Some(ended) }
    }
}

impl<F, R, E, O> Future for TaskRun<'_, '_, F, R, E, O>
where
    F: Future<Output = Result<R, E>> + Send,
    E: StepError,
    O: Payload,
{
    type Output = Result<O, ExecutionFailure>;

    fn poll(self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            TaskRunProjection::Direct { running, finish } => {
                // Polled as a trait object: the guard is compiled once per output type
                // rather than once per step.
                let running: Pin<&mut (dyn Future<Output = Result<R, E>> + Send)> = running;
                let Poll::Ready(returned) = panic::poll_catching(running, task) else {
                    return Poll::Pending;
                };
                Poll::Ready(match finish.take() {
                    Some(finish) => {
                        finish
                            .task
                            .finish(finish.cx, finish.step, returned, finish.into_output)
                    }
                    None => Err(polled_after_end()),
                })
            }
            TaskRunProjection::Full { full } => full.as_mut().poll(task),
            TaskRunProjection::Ended { ended } => {
                Poll::Ready(ended.take().unwrap_or_else(|| Err(polled_after_end())))
            }
        }
    }
}

/// A task's future polled again after it ended: not done by the machine's code; a failure
/// rather than a panic all the same.
#[cold]
fn polled_after_end() -> ExecutionFailure {
    ExecutionFailure::predefined(
        None,
        crate::step::States::Runtime,
        "a task's future was polled after it ended (a defect of the workflow runtime)",
    )
}
