//! One attempt of a task, composed of layers around the step's call, each in its own module:
//!
//! - recording: TaskScheduled and TaskStarted, made durable before the step runs (here);
//! - [`invoke`](super::invoke): the step's future, or a mock's answer (with the `testing`
//!   feature only), polled with its panics caught, then the callback it returns awaited;
//! - [`callback`](crate::engine::callback): the attempt's task token, stored before the step
//!   can hand it out, and expired when the attempt ends without it;
//! - [`timers`](super::timers): the timeout and the heartbeat around all of that;
//! - [`replay`](super::replay): an attempt already started when the execution resumed is not
//!   run again; its stored outcome stands, or its callback is awaited again.

use std::sync::Arc;
use std::time::SystemTime;

use tracing::Instrument;

use crate::engine::callback;
use crate::engine::settings::TaskTimers;
use crate::engine::spans;
use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::step::{Heartbeat, States, TaskToken};
use workflow_core::definition::StateId;

use super::erased::{AnyOutput, MakeCall, StepFacts};
use super::timers::Timers;
use super::{invoke, replay, timers};

/// A failed attempt, and whether it failed by timing out: a heartbeat timeout is recorded as
/// `States.Timeout`, as Step Functions records it, and matches `States.HeartbeatTimeout` too.
pub(super) struct FailedAttempt {
    pub(super) failure: ExecutionFailure,
    pub(super) timed_out: bool,
    pub(super) heartbeat: bool,
}

impl FailedAttempt {
    /// The error name retriers and catchers match: `States.HeartbeatTimeout` for a heartbeat
    /// timeout (which `States.Timeout` and `States.ALL` match as well).
    pub(super) fn matched_as(&self) -> &str {
        if self.heartbeat {
            States::HeartbeatTimeout.name()
        } else {
            self.failure.error()
        }
    }
}

impl From<ExecutionFailure> for FailedAttempt {
    /// An attempt that failed without timing out.
    fn from(failure: ExecutionFailure) -> Self {
        FailedAttempt {
            failure,
            timed_out: false,
            heartbeat: false,
        }
    }
}

/// One attempt: TaskScheduled (at `scheduled_at` when given), TaskStarted, then the step
/// under its timers (or, when replaying, the stored outcome). A callback step's attempt has a
/// token of its own; its callback is stored before the step can hand the token out, and after
/// the step returns, the attempt waits for the token under the same timers.
///
/// Not generic over the step, as none of its layers are: `make_call` makes the step's future
/// for the attempt's input, boxed, and `step` tells the rest.
pub(super) async fn attempt(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &StepFacts,
    make_call: &mut MakeCall<'_>,
    task_timers: TaskTimers,
    number: u32,
    scheduled_at: Option<SystemTime>,
) -> Result<AnyOutput, FailedAttempt> {
    let state_name = cx.state_name(state);
    let kinds = super::TaskKinds::of(cx, state);
    let with_number = numbered(number);
    let heartbeat = task_timers
        .heartbeat
        .map(|_| Arc::new(Heartbeat::new(Arc::clone(cx.clock()))));
    // The step's future is made (none of its code runs) before TaskScheduled is recorded, so
    // that TaskScheduled and TaskStarted are recorded together; an attempt whose future
    // cannot be made records TaskScheduled alone, then fails.
    let scheduled_alone = |failed: FailedAttempt| {
        cx.record_at(scheduled_at, kinds.scheduled, Some(state), with_number);
        failed
    };
    let token = token_of(step, state_name).map_err(scheduled_alone)?;
    let env = cx.step_env(
        state,
        step.name(),
        number,
        heartbeat.as_ref(),
        token.as_ref(),
    );
    let invocation = make_call(cx, state_name, &env).map_err(scheduled_alone)?;
    let (scheduled_event, started) = cx.record_two_at(
        scheduled_at,
        state,
        (kinds.scheduled, with_number),
        (kinds.started, with_number),
    );
    let scheduled = scheduled_event.id;
    let started_at = started.timestamp.unwrap_or_else(|| cx.clock().now());
    let timers = Timers::new(task_timers, heartbeat.as_ref(), started_at);
    if started.replayed.is_some() {
        // Boxed: only a resuming execution replays, and its future is large.
        return Box::pin(replay::resume(
            cx,
            state,
            step,
            scheduled,
            number,
            timers,
            heartbeat.as_ref(),
        ))
        .await;
    }
    cx.flush().await?;
    // The callback exists, durably, before the step can hand out its token.
    let token_hash = match (&token, invocation.real) {
        (Some(token), true) => {
            Box::pin(callback::create(cx, state, scheduled, token)).await?;
            Some(token.hash())
        }
        _ => None,
    };
    let token_hash = token_hash.as_deref();
    let span = spans::attempt(cx, state, step.name(), number);
    let outcome = if span.is_none() && timers.is_empty() {
        // The common case: the step's future awaited in place, not moved through layers
        // that have nothing to do (each move of it is a copy of a few hundred bytes).
        invoke::settle(
            cx,
            state,
            step,
            invocation.running,
            token_hash,
            heartbeat.as_ref(),
        )
        .await
        .map_err(FailedAttempt::from)
    } else {
        let body = invoke::settle(
            cx,
            state,
            step,
            invocation.running,
            token_hash,
            heartbeat.as_ref(),
        );
        let timed = timers::timed(cx, state, step, timers, body, token_hash);
        match span {
            None => timed.await,
            // Boxed: the untraced path keeps the future it had without spans.
            Some(span) => Box::pin(timed.instrument(span)).await,
        }
    };
    if let (Some(hash), Err(_)) = (&token_hash, &outcome) {
        // The attempt ended without its callback: the token stops working.
        Box::pin(callback::expire(cx, hash)).await;
    }
    outcome
}

/// Sets an attempt's event's number. A closure of this function, not generic, is one type
/// for every task: the recording it is handed to is compiled once for it, not once per step.
pub(super) fn numbered(number: u32) -> impl Fn(&mut crate::history::Event) + Copy {
    move |event| event.attempt = Some(number)
}

/// The attempt's task token, if its step takes one.
fn token_of(step: &StepFacts, state_name: &str) -> Result<Option<TaskToken>, FailedAttempt> {
    if !step.callback {
        return Ok(None);
    }
    TaskToken::generate().map(Some).map_err(|error| {
        FailedAttempt::from(ExecutionFailure::predefined(
            Some(state_name),
            States::Runtime,
            format!("the operating system gave no randomness for a task token: {error}"),
        ))
    })
}
