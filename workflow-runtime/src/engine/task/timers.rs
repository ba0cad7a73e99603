//! The timers around an attempt: its timeout, counted from when it started (also when a wait
//! resumes after a restart), and its heartbeat. Either ends the attempt with `States.Timeout`,
//! dropping (so cancelling) the step's future.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::Either;
use futures_util::TryFutureExt;

use crate::engine::callback;
use crate::engine::settings::TaskTimers;
use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::step::{Heartbeat, States};
use workflow_core::definition::StateId;

use super::attempt::FailedAttempt;
use super::erased::{AnyOutput, StepFacts};

/// The timers of an attempt.
pub(super) struct Timers<'a> {
    timeout: Option<Duration>,
    heartbeat: Option<(Duration, &'a Arc<Heartbeat>)>,
    started_at: SystemTime,
}

impl<'a> Timers<'a> {
    pub(super) fn new(
        timers: TaskTimers,
        heartbeat: Option<&'a Arc<Heartbeat>>,
        started_at: SystemTime,
    ) -> Self {
        Timers {
            timeout: timers.timeout,
            heartbeat: timers.heartbeat.zip(heartbeat),
            started_at,
        }
    }

    /// Whether there is no timer at all.
    pub(super) fn is_empty(&self) -> bool {
        self.timeout.is_none() && self.heartbeat.is_none()
    }
}

/// Runs `body` under the attempt's timers. When a timer ends a callback attempt, the callback
/// is expired, unless it was completed in the meantime: then that completion stands.
///
/// Not an `async fn`: one would keep `body` twice, as its argument and as what it awaits (a
/// few hundred bytes in every task's future); this future is `body` itself when there is no
/// timer.
pub(super) fn timed<'a, F>(
    cx: &'a ExecutionContext<'a>,
    state: StateId,
    step: &'a StepFacts,
    timers: Timers<'a>,
    body: F,
    callback: Option<&'a str>,
) -> impl Future<Output = Result<AnyOutput, FailedAttempt>> + 'a
where
    F: Future<Output = Result<AnyOutput, ExecutionFailure>> + 'a,
{
    if timers.is_empty() {
        // The common case: no timer at all.
        return Either::Left(body.map_err(FailedAttempt::from));
    }
    // Boxed: the timers' futures would make every attempt's future larger.
    Either::Right(Box::pin(under_timers(
        cx, state, step, timers, body, callback,
    )))
}

/// [`timed`] with a timeout and/or a heartbeat.
async fn under_timers<F>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    step: &StepFacts,
    timers: Timers<'_>,
    body: F,
    callback: Option<&str>,
) -> Result<AnyOutput, FailedAttempt>
where
    F: Future<Output = Result<AnyOutput, ExecutionFailure>>,
{
    let state_name = cx.state_name(state);
    let (timeout, heartbeat) = (timers.timeout, timers.heartbeat);
    let clock = Arc::clone(cx.clock());
    let elapsed = clock
        .now()
        .duration_since(timers.started_at)
        .unwrap_or_default();
    let deadline = async {
        match timeout {
            Some(timeout) => clock.sleep(timeout.saturating_sub(elapsed)).await,
            None => std::future::pending().await,
        }
    };
    let silence = async {
        match heartbeat {
            Some((interval, heartbeat)) => heartbeat.expired(interval).await,
            None => std::future::pending().await,
        }
    };
    let (heartbeat_silent, cause) = tokio::select! {
        biased;
        result = body => return result.map_err(FailedAttempt::from),
        () = deadline => (false, format!(
            "step `{}` did not finish within {}",
            step.name(),
            humantime::format_duration(timeout.unwrap_or_default())
        )),
        () = silence => (true, format!(
            "step `{}` sent no heartbeat for {}",
            step.name(),
            humantime::format_duration(heartbeat.map_or(Duration::ZERO, |(interval, _)| interval))
        )),
    };
    if let Some(hash) = callback {
        if let Some(completed) = callback::settle(cx, state, step, hash).await {
            return completed.map_err(FailedAttempt::from);
        }
    }
    Err(FailedAttempt {
        failure: ExecutionFailure::predefined(Some(state_name), States::Timeout, cause),
        timed_out: true,
        heartbeat: heartbeat_silent,
    })
}
