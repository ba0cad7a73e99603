//! Attempts that had started before the execution resumed: at most once, a started task is
//! not run again. Its stored outcome stands; a callback it was waiting for is awaited again;
//! without either, the worker running it was lost and the attempt fails.

use std::sync::Arc;

use crate::engine::callback;
use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::history::{Event, EventType};
use crate::step::{Heartbeat, States};
use workflow_core::definition::StateId;

use super::attempt::FailedAttempt;
use super::erased::{AnyOutput, StepFacts};
use super::timers::{self, Timers};

/// The outcome of attempt `number`, replayed: a callback still awaited (stored with the
/// attempt's TaskScheduled, event `scheduled`) is awaited again under the attempt's timers;
/// otherwise the stored outcome.
pub(super) async fn resume(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &StepFacts,
    scheduled: u64,
    number: u32,
    timers: Timers<'_>,
    heartbeat: Option<&Arc<Heartbeat>>,
) -> Result<AnyOutput, FailedAttempt> {
    let resumed = match step.callback {
        true => Box::pin(callback::resumable(cx, state, scheduled)).await?,
        false => None,
    };
    match resumed.filter(|_| awaits_callback(cx)) {
        Some(callback) => {
            let hash = callback.token_hash;
            let wait = callback::wait(cx, state, step, &hash, heartbeat);
            Box::pin(timers::timed(cx, state, step, timers, wait, Some(&hash))).await
        }
        None => stored_outcome(cx, state, step, number),
    }
}

/// Whether a replayed attempt stopped while waiting for its callback: nothing after its
/// TaskStarted but (perhaps) TaskSubmitted.
fn awaits_callback(cx: &ExecutionContext<'_>) -> bool {
    matches!(
        cx.replay_next().map(|event| event.kind),
        None | Some(EventType::TaskSubmitted)
    )
}

/// The stored outcome of the attempt, or, when none was stored, the failure of a worker lost
/// mid-task.
fn stored_outcome(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &StepFacts,
    number: u32,
) -> Result<AnyOutput, FailedAttempt> {
    let kinds = super::TaskKinds::of(cx, state);
    let state_name = cx.state_name(state);
    match cx.replay_next() {
        Some(Event { kind, output, .. }) if kind == kinds.succeeded => {
            let output = output.unwrap_or(serde_json::Value::Null);
            step.decode(output).map_err(|error| {
                FailedAttempt::from(ExecutionFailure::predefined(
                    Some(state_name),
                    States::Runtime,
                    format!(
                        "the stored output of step `{}` no longer reads as `{}`: {error}",
                        step.name(),
                        step.output_type()
                    ),
                ))
            })
        }
        Some(Event {
            kind,
            error,
            cause,
            heartbeat_timeout,
            ..
        }) if kind == kinds.failed || kind == kinds.timed_out => Err(FailedAttempt {
            failure: ExecutionFailure::new(Some(state_name), error.unwrap_or_default(), cause.unwrap_or_default()),
            timed_out: kind == kinds.timed_out,
            heartbeat: heartbeat_timeout,
        }),
        _ => Err(FailedAttempt::from(ExecutionFailure::predefined(
            Some(state_name),
            States::TaskFailed,
            format!(
                "the worker running step `{}` (attempt {number}) was lost before it finished; a task that has started is not run again unless a retrier says so",
                step.name()
            ),
        ))),
    }
}
