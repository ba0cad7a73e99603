//! Task states: run a step, with its timeout, heartbeat, retriers and catchers, and record
//! every attempt.
//!
//! In a durable execution, TaskStarted is made durable before the step's future is first
//! polled, and the outcome before the next state begins. When a resumed execution replays a
//! task, a stored outcome is returned instead of running the step again; a task stored as
//! started without an outcome was running when its worker was lost, and fails with
//! `States.TaskFailed` rather than run twice (a retrier for that error may run it again).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::Either;

use crate::engine::counts::RetryCounts;
use crate::execution::ExecutionFailure;
use crate::history::{Event, EventType};
use crate::step::{Caught, Heartbeat, States, Step};
use crate::testing::mock::Response;
use workflow_core::definition::{StateId, StateKind, TaskState};

use super::recorder::Recorded;
use super::ExecutionContext;

/// How a Task state with catchers ended.
#[derive(Debug)]
pub enum TaskOutcome<O, I> {
    /// The step succeeded (perhaps after retries).
    Succeeded(O),
    /// The step failed and the catcher with this index took over.
    Caught(usize, Caught<I>),
    /// The step failed and no catcher applies.
    Failed(ExecutionFailure),
}

/// Runs a Task state without retriers or catchers: its step runs once.
///
/// Records TaskStateEntered, TaskScheduled, TaskStarted, then TaskSucceeded and
/// TaskStateExited, or TaskFailed / TaskTimedOut.
pub async fn run_task<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: S::Input,
) -> Result<S::Output, ExecutionFailure> {
    let task = task_state(cx, state)?;
    cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    )?;
    match attempt::<S>(cx, state, task, input, 1).await {
        Ok(output) => exit(cx, state, output).await,
        Err(failed) => {
            record_failed_attempt(cx, state, &failed, None);
            cx.flush().await?;
            Err(failed.failure)
        }
    }
}

/// Runs a Task state with retriers and/or catchers.
///
/// Each attempt gets a `copy` of the input (its `Clone`), so a retry sees what the first
/// attempt saw, and a catch target receives it.
pub async fn run_task_with_policies<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: S::Input,
    copy: fn(&S::Input) -> S::Input,
) -> TaskOutcome<S::Output, S::Input> {
    let task = match task_state(cx, state) {
        Ok(task) => task,
        Err(failure) => return TaskOutcome::Failed(failure),
    };
    if let Err(failure) = cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    ) {
        return TaskOutcome::Failed(failure);
    }
    let mut counts = RetryCounts::starting_at(cx.shared.retries_done);
    let mut attempt_number = 1;
    loop {
        let failed = match attempt::<S>(cx, state, task, copy(&input), attempt_number).await {
            Ok(output) => match exit(cx, state, output).await {
                Ok(output) => return TaskOutcome::Succeeded(output),
                // An output over the size limit fails the state; a catcher may handle it.
                Err(failure) if failure.error() == States::DataLimitExceeded => FailedAttempt {
                    failure,
                    timed_out: false,
                },
                Err(failure) => return TaskOutcome::Failed(failure),
            },
            Err(failed) => failed,
        };
        let error = failed.failure.error();
        // `States.Runtime` is never retried or caught.
        let retriable = error != States::Runtime;
        let delay = retriable
            .then(|| counts.next_delay(&task.retry, error))
            .flatten();
        let recorded = record_failed_attempt(cx, state, &failed, delay);
        if let Err(failure) = cx.flush().await {
            return TaskOutcome::Failed(failure);
        }
        // A replayed failure keeps the delay that was drawn (and stored) the first time.
        let delay = match &recorded.replayed {
            Some(stored) => stored.retry_in,
            None => delay,
        };
        if let Some(delay) = delay {
            sleep_until(
                cx,
                recorded.timestamp.unwrap_or_else(|| cx.clock().now()) + delay,
            )
            .await;
            attempt_number += 1;
            continue;
        }
        let catcher = task.catch.iter().position(|catcher| catcher.matches(error));
        return match catcher.filter(|_| retriable) {
            Some(index) => {
                let caught = Caught {
                    input,
                    state: cx.state_name(state).to_owned(),
                    error: failed.failure.error().to_owned(),
                    cause: failed.failure.cause().to_owned(),
                };
                let recorded = cx
                    .record_payload(
                        EventType::TaskStateExited,
                        Some(state),
                        None::<&()>,
                        Some(&caught),
                    )
                    .map(|_| ());
                match recorded {
                    Ok(()) => TaskOutcome::Caught(index, caught),
                    Err(failure) => TaskOutcome::Failed(failure),
                }
            }
            None => TaskOutcome::Failed(failed.failure),
        };
    }
}

/// Sleeps on the execution's clock until `deadline` (not at all if it has passed).
pub(crate) async fn sleep_until(cx: &ExecutionContext<'_>, deadline: SystemTime) {
    let clock = cx.clock();
    if let Ok(left) = deadline.duration_since(clock.now()) {
        if !left.is_zero() {
            clock.sleep(left).await;
        }
    }
}

/// The Task state `state` of the execution's definition.
fn task_state(
    cx: &ExecutionContext<'_>,
    state: StateId,
) -> Result<&'static TaskState, ExecutionFailure> {
    let definition = cx.definition();
    match definition.state(state).map(|state| &state.kind) {
        Some(StateKind::Task(task)) => Ok(task),
        // Generated code only runs tasks for Task states; say so plainly if that ever breaks.
        _ => Err(ExecutionFailure::predefined(
            Some(definition.state_name(state)),
            States::Runtime,
            format!(
                "state `{}` was run as a Task state but is not one",
                definition.state_name(state)
            ),
        )),
    }
}

/// A failed attempt, and whether it failed by timing out.
struct FailedAttempt {
    failure: ExecutionFailure,
    timed_out: bool,
}

/// One attempt: TaskScheduled, TaskStarted, then the step under its timeout and heartbeat (or,
/// when replaying, the stored outcome).
async fn attempt<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    task: &TaskState,
    input: S::Input,
    attempt: u32,
) -> Result<S::Output, FailedAttempt> {
    let state_name = cx.state_name(state);
    cx.record(EventType::TaskScheduled, Some(state), |event| {
        event.attempt = Some(attempt)
    });
    let heartbeat = task
        .heartbeat
        .map(|_| Arc::new(Heartbeat::new(Arc::clone(cx.clock()))));
    let refuse = |reason: String| FailedAttempt {
        failure: ExecutionFailure::predefined(Some(state_name), States::Runtime, reason),
        timed_out: false,
    };
    // A test may have replaced the step.
    let mock = cx
        .shared
        .resources
        .mocks
        .as_ref()
        .and_then(|mocks| mocks.get::<S>(state_name));
    let env = cx.step_env(state, S::INFO.name(), attempt, heartbeat.as_ref());
    let call = |input| S::call(input, &env).map_err(|missing| refuse(missing.to_string()));
    let running = match mock {
        None => Either::Left(call(input)?),
        Some(mock) => match mock.respond(input) {
            Response::Run(mocked) => Either::Right(mocked),
            Response::Real(input) => Either::Left(call(input)?),
            Response::Refuse(reason) => return Err(refuse(reason)),
        },
    };
    let started = cx.record(EventType::TaskStarted, Some(state), |event| {
        event.attempt = Some(attempt)
    });
    if started.replayed.is_some() {
        return replayed_outcome::<S>(cx, state_name, attempt);
    }
    cx.flush().await.map_err(|failure| FailedAttempt {
        failure,
        timed_out: false,
    })?;
    let result = match (task.timeout, task.heartbeat.zip(heartbeat)) {
        // The common case: no timer at all.
        (None, None) => running.await,
        (timeout, heartbeat) => {
            let clock = Arc::clone(cx.clock());
            let deadline = async {
                match timeout {
                    Some(timeout) => clock.sleep(timeout).await,
                    None => std::future::pending().await,
                }
            };
            let silence = async {
                match &heartbeat {
                    Some((interval, heartbeat)) => heartbeat.expired(*interval).await,
                    None => std::future::pending().await,
                }
            };
            // Dropping the step's future on a timeout cancels it.
            tokio::select! {
                biased;
                result = running => result,
                () = deadline => {
                    return Err(timed_out(state_name, States::Timeout, format!(
                        "step `{}` did not finish within {}",
                        S::INFO.name(),
                        humantime::format_duration(timeout.unwrap_or_default())
                    )));
                }
                () = silence => {
                    let interval = task.heartbeat.unwrap_or(Duration::ZERO);
                    return Err(timed_out(state_name, States::HeartbeatTimeout, format!(
                        "step `{}` sent no heartbeat for {}",
                        S::INFO.name(),
                        humantime::format_duration(interval)
                    )));
                }
            }
        }
    };
    result.map_err(|error| FailedAttempt {
        failure: ExecutionFailure::from_step_error(state_name, error),
        timed_out: false,
    })
}

/// The outcome of an attempt that had started before the execution resumed: the stored one,
/// or, when none was stored, the failure of a worker lost mid-task.
fn replayed_outcome<S: Step>(
    cx: &ExecutionContext<'_>,
    state_name: &str,
    attempt: u32,
) -> Result<S::Output, FailedAttempt> {
    let failed = |failure| FailedAttempt {
        failure,
        timed_out: false,
    };
    match cx.replay_next() {
        Some(Event {
            kind: EventType::TaskSucceeded,
            output,
            ..
        }) => {
            let output = output.unwrap_or(serde_json::Value::Null);
            serde_json::from_value(output).map_err(|error| {
                failed(ExecutionFailure::predefined(
                    Some(state_name),
                    States::Runtime,
                    format!(
                        "the stored output of step `{}` no longer reads as `{}`: {error}",
                        S::INFO.name(),
                        std::any::type_name::<S::Output>()
                    ),
                ))
            })
        }
        Some(Event {
            kind: kind @ (EventType::TaskFailed | EventType::TaskTimedOut),
            error,
            cause,
            ..
        }) => Err(FailedAttempt {
            failure: ExecutionFailure::new(Some(state_name), error.unwrap_or_default(), cause.unwrap_or_default()),
            timed_out: kind == EventType::TaskTimedOut,
        }),
        _ => Err(failed(ExecutionFailure::predefined(
            Some(state_name),
            States::TaskFailed,
            format!(
                "the worker running step `{}` (attempt {attempt}) was lost before it finished; a task that has started is not run again unless a retrier says so",
                S::INFO.name()
            ),
        ))),
    }
}

fn timed_out(state: &str, error: States, cause: String) -> FailedAttempt {
    FailedAttempt {
        failure: ExecutionFailure::predefined(Some(state), error, cause),
        timed_out: true,
    }
}

/// TaskFailed or TaskTimedOut for a failed attempt, with the delay if it will be retried.
fn record_failed_attempt(
    cx: &ExecutionContext<'_>,
    state: StateId,
    failed: &FailedAttempt,
    retry_in: Option<Duration>,
) -> Recorded {
    let kind = if failed.timed_out {
        EventType::TaskTimedOut
    } else {
        EventType::TaskFailed
    };
    cx.record(kind, Some(state), |event| {
        event.error = Some(failed.failure.error().to_owned());
        event.cause = Some(failed.failure.cause().to_owned());
        event.retry_in = retry_in;
    })
}

/// TaskSucceeded and TaskStateExited, durable before the next state begins.
async fn exit<O: serde::Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    output: O,
) -> Result<O, ExecutionFailure> {
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
    cx.flush().await?;
    Ok(output)
}
