//! Task states: run a step, with its timeout, heartbeat, retriers and catchers, and record
//! every attempt.

use std::sync::Arc;
use std::time::Duration;

use crate::definition::{StateId, StateKind, TaskState};
use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::retry::RetryCounts;
use crate::step::{Caught, Heartbeat, States, Step};

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
        Ok(output) => exit(cx, state, output),
        Err(failed) => {
            record_failed_attempt(cx, state, &failed, None);
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
    let mut counts = RetryCounts::default();
    let mut attempt_number = 1;
    loop {
        let failed = match attempt::<S>(cx, state, task, copy(&input), attempt_number).await {
            Ok(output) => {
                return match exit(cx, state, output) {
                    Ok(output) => TaskOutcome::Succeeded(output),
                    Err(failure) => TaskOutcome::Failed(failure),
                }
            }
            Err(failed) => failed,
        };
        let error = failed.failure.error();
        // `States.Runtime` is never retried or caught.
        let retriable = error != States::Runtime;
        let delay = retriable
            .then(|| counts.next_delay(&task.retry, error))
            .flatten();
        record_failed_attempt(cx, state, &failed, delay);
        if let Some(delay) = delay {
            cx.clock().sleep(delay).await;
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
                let recorded = cx.record_payload(
                    EventType::TaskStateExited,
                    Some(state),
                    None::<&()>,
                    Some(&caught),
                );
                match recorded {
                    Ok(()) => TaskOutcome::Caught(index, caught),
                    Err(failure) => TaskOutcome::Failed(failure),
                }
            }
            None => TaskOutcome::Failed(failed.failure),
        };
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

/// One attempt: TaskScheduled, TaskStarted, then the step under its timeout and heartbeat.
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
    let running = S::call(
        input,
        &cx.step_env(state, S::INFO.name(), attempt, heartbeat.as_ref()),
    )
    .map_err(|missing| FailedAttempt {
        failure: ExecutionFailure::predefined(
            Some(state_name),
            States::Runtime,
            missing.to_string(),
        ),
        timed_out: false,
    })?;
    cx.record(EventType::TaskStarted, Some(state), |event| {
        event.attempt = Some(attempt)
    });
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
) {
    let kind = if failed.timed_out {
        EventType::TaskTimedOut
    } else {
        EventType::TaskFailed
    };
    cx.record(kind, Some(state), |event| {
        event.error = Some(failed.failure.error().to_owned());
        event.cause = Some(failed.failure.cause().to_owned());
        event.retry_in = retry_in;
    });
}

/// TaskSucceeded and TaskStateExited.
fn exit<O: serde::Serialize>(
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
    Ok(output)
}
