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
use futures_util::FutureExt;

use crate::engine::counts::RetryCounts;
use crate::execution::ExecutionFailure;
use crate::history::{Event, EventType};
use crate::step::{Caught, Heartbeat, States, Step, TaskToken};
use crate::testing::mock::Response;
use workflow_core::definition::{StateId, StateKind, TaskState};

use super::callback;
use super::panic;
use super::recorder::Recorded;
use super::settings::{ComputedTimers, TaskTimers};
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
///
/// `computed` holds the timers worked out from the input, if the state has any.
pub async fn run_task<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    computed: ComputedTimers,
    input: S::Input,
) -> Result<S::Output, ExecutionFailure> {
    let task = task_state(cx, state)?;
    let timers = TaskTimers::of(task, computed);
    if timers.as_ref().is_ok_and(|timers| is_bare::<S>(cx, timers)) {
        return run_bare::<S>(cx, state, input).await;
    }
    // Boxed: recording, timers, callbacks and replay make a large future, which every state's
    // future (and every bare task's) would otherwise carry and move.
    Box::pin(run_recorded::<S>(cx, state, timers, input)).await
}

/// Whether a task needs none of what recording, timers, callbacks and mocks take: the
/// execution keeps no history (a synchronous Express `call`), the task has no timeout or
/// heartbeat, its step hands out no token, and no test replaced a step.
fn is_bare<S: Step>(cx: &ExecutionContext<'_>, timers: &TaskTimers) -> bool {
    cx.shared.recorder.is_lean()
        && !S::CALLBACK
        && timers.is_none()
        && cx.shared.resources.mocks.is_none()
}

/// The timers a task's attempts run under, or the failure of a computed one out of range.
fn usable_timers(
    cx: &ExecutionContext<'_>,
    state: StateId,
    timers: Result<TaskTimers, String>,
) -> Result<TaskTimers, ExecutionFailure> {
    timers.map_err(|why| {
        ExecutionFailure::predefined(Some(cx.state_name(state)), States::Runtime, why)
    })
}

/// A bare task: the step between the payload limits, as the recorded path would run it with
/// nothing to record.
async fn run_bare<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    input: S::Input,
) -> Result<S::Output, ExecutionFailure> {
    let state_name = cx.state_name(state);
    cx.check_size(Some(state), "input", &input)?;
    let env = cx.step_env(state, S::INFO.name(), 1, None, None);
    // `call` runs none of the step's code (it builds its future): only polling it is guarded,
    // in place.
    let running = S::call(input, &env).map_err(|missing| {
        ExecutionFailure::predefined(Some(state_name), States::Runtime, missing.to_string())
    })?;
    let mut running = std::pin::pin!(running);
    let returned = std::future::poll_fn(|task| panic::poll_catching(running.as_mut(), task))
        .await
        .map_err(|message| step_panicked::<S>(state_name, &message))?;
    match returned {
        Ok(returned) => match S::into_output(returned) {
            Ok(output) => {
                cx.check_size(Some(state), "output", &output)?;
                Ok(output)
            }
            Err(_callback) => Err(callback_without_token(state_name)),
        },
        Err(error) => Err(ExecutionFailure::from_step_error(state_name, error)),
    }
}

/// A step (or the mock standing in for it) panicked: its attempt failed, as a task does.
fn step_panicked<S: Step>(state_name: &str, message: &str) -> ExecutionFailure {
    ExecutionFailure::predefined(
        Some(state_name),
        States::TaskFailed,
        format!("step `{}` panicked: {message}", S::INFO.name()),
    )
}

/// A step returned a callback, but its attempt handed out no token to wait for.
fn callback_without_token(state_name: &str) -> ExecutionFailure {
    ExecutionFailure::predefined(
        Some(state_name),
        States::Runtime,
        "the step returned a callback without a token to wait for",
    )
}

async fn run_recorded<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    timers: Result<TaskTimers, String>,
    input: S::Input,
) -> Result<S::Output, ExecutionFailure> {
    let entered = cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    )?;
    let timers = usable_timers(cx, state, timers)?;
    let failed = match attempt::<S>(cx, state, timers, input, 1, entered.new_time()).await {
        Ok(output) => match exit(cx, state, output) {
            Ok(output) => return Ok(output),
            Err(Unusable::FailedAttempt(failed)) => failed,
            Err(Unusable::FailsState(failure)) => return Err(failure),
        },
        Err(failed) => failed,
    };
    record_failed_attempt(cx, state, &failed, None);
    cx.flush().await?;
    Err(failed.failure)
}

/// Runs a Task state with retriers and/or catchers.
///
/// Each attempt gets a `copy` of the input (its `Clone`), so a retry sees what the first
/// attempt saw, and a catch target receives it. `computed` holds the timers worked out from
/// the input, if the state has any.
pub async fn run_task_with_policies<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    computed: ComputedTimers,
    input: S::Input,
    copy: fn(&S::Input) -> S::Input,
) -> TaskOutcome<S::Output, S::Input> {
    let task = match task_state(cx, state) {
        Ok(task) => task,
        Err(failure) => return TaskOutcome::Failed(failure),
    };
    let mut at = match cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    ) {
        Ok(entered) => entered.new_time(),
        Err(failure) => return TaskOutcome::Failed(failure),
    };
    // A computed timer out of range is a `States.Runtime` failure: never retried or caught.
    let timers = match usable_timers(cx, state, TaskTimers::of(task, computed)) {
        Ok(timers) => timers,
        Err(failure) => return TaskOutcome::Failed(failure),
    };
    let mut counts = RetryCounts::starting_at(cx.shared.retries_done);
    let mut attempt_number = 1;
    loop {
        // The first attempt is scheduled as the state is entered; later ones after a wait.
        let scheduled_at = at.take();
        let failed = match attempt::<S>(
            cx,
            state,
            timers,
            copy(&input),
            attempt_number,
            scheduled_at,
        )
        .await
        {
            Ok(output) => match exit(cx, state, output) {
                Ok(output) => return TaskOutcome::Succeeded(output),
                // An output over the size limit fails the attempt; retriers and catchers
                // apply.
                Err(Unusable::FailedAttempt(failed)) => failed,
                Err(Unusable::FailsState(failure)) => return TaskOutcome::Failed(failure),
            },
            Err(failed) => failed,
        };
        let error = failed.matched_as();
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
            wait_until(
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

/// Waits until `deadline` with nothing else to do (a Wait state, a retry interval), with
/// everything before the wait already durable. A long wait at the top level of an execution
/// a worker holds parks it instead: the worker lets the execution go, and whichever worker
/// claims it when it is due resumes it by replay.
pub(crate) async fn wait_until(cx: &ExecutionContext<'_>, deadline: SystemTime) {
    let now = cx.clock().now();
    if deadline > now && cx.is_top_level() && cx.shared.recorder.park(deadline, now).await {
        // This run of the execution ends here (its task is stopped).
        std::future::pending::<()>().await;
    }
    sleep_until(cx, deadline).await;
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

/// A failed attempt, and whether it failed by timing out: a heartbeat timeout is recorded as
/// `States.Timeout`, as Step Functions records it, and matches `States.HeartbeatTimeout` too.
struct FailedAttempt {
    failure: ExecutionFailure,
    timed_out: bool,
    heartbeat: bool,
}

impl FailedAttempt {
    /// The error name retriers and catchers match: `States.HeartbeatTimeout` for a heartbeat
    /// timeout (which `States.Timeout` and `States.ALL` match as well).
    fn matched_as(&self) -> &str {
        if self.heartbeat {
            States::HeartbeatTimeout.name()
        } else {
            self.failure.error()
        }
    }
}

/// One attempt: TaskScheduled (at `scheduled_at` when given), TaskStarted, then the step
/// under its timeout and heartbeat (or, when replaying, the stored outcome). A callback step's
/// attempt has a token of its own; its callback is stored before the step can hand the token
/// out, and after the step returns, the attempt waits for the token under the same timers.
async fn attempt<S: Step>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    timers: TaskTimers,
    input: S::Input,
    attempt: u32,
    scheduled_at: Option<SystemTime>,
) -> Result<S::Output, FailedAttempt> {
    let state_name = cx.state_name(state);
    let scheduled_event = cx.record_at(
        scheduled_at,
        EventType::TaskScheduled,
        Some(state),
        |event| event.attempt = Some(attempt),
    );
    let scheduled = cx.last_event_id();
    let heartbeat = timers
        .heartbeat
        .map(|_| Arc::new(Heartbeat::new(Arc::clone(cx.clock()))));
    let refuse = |reason: String| FailedAttempt {
        failure: ExecutionFailure::predefined(Some(state_name), States::Runtime, reason),
        timed_out: false,
        heartbeat: false,
    };
    let token = if S::CALLBACK {
        Some(TaskToken::generate().map_err(|error| {
            refuse(format!(
                "the operating system gave no randomness for a task token: {error}"
            ))
        })?)
    } else {
        None
    };
    // A test may have replaced the step.
    let mock = cx
        .shared
        .resources
        .mocks
        .as_ref()
        .and_then(|mocks| mocks.get::<S>(state_name));
    let env = cx.step_env(
        state,
        S::INFO.name(),
        attempt,
        heartbeat.as_ref(),
        token.as_ref(),
    );
    let panicked = |message: String| FailedAttempt {
        failure: step_panicked::<S>(state_name, &message),
        timed_out: false,
        heartbeat: false,
    };
    // `call` runs none of the step's code (it builds its future); a mock's `respond` may.
    let call = |input| {
        S::call(input, &env)
            .map(|running| running.map(|result| result.map(S::into_output)))
            .map_err(|missing| refuse(missing.to_string()))
    };
    // The real step, or a mock's answer (a mocked callback step answers with its output).
    let (running, real) = match mock {
        None => (Either::Left(call(input)?), true),
        Some(mock) => match panic::catching_call(|| mock.respond(input)).map_err(panicked)? {
            Response::Run(mocked) => (Either::Right(mocked.map(|result| result.map(Ok))), false),
            Response::Real(input) => (Either::Left(call(input)?), true),
            Response::Refuse(reason) => return Err(refuse(reason)),
        },
    };
    let started = cx.record_at(
        scheduled_event.new_time(),
        EventType::TaskStarted,
        Some(state),
        |event| event.attempt = Some(attempt),
    );
    let started_at = started.timestamp.unwrap_or_else(|| cx.clock().now());
    let failed = |failure| FailedAttempt {
        failure,
        timed_out: false,
        heartbeat: false,
    };
    if started.replayed.is_some() {
        // A callback the attempt was waiting for when the execution stopped: wait again.
        let resumed = match S::CALLBACK {
            true => Box::pin(callback::resumable(cx, state, scheduled))
                .await
                .map_err(failed)?,
            false => None,
        };
        let waiting = resumed.filter(|_| replay_awaits_callback(cx));
        return match waiting {
            Some(callback) => {
                let hash = callback.token_hash;
                let wait = callback::wait::<S>(cx, state, &hash, heartbeat.as_ref());
                let timers = Timers::new(timers, heartbeat.as_ref(), started_at);
                Box::pin(timed::<S, _>(cx, state, timers, wait, Some(&hash))).await
            }
            None => replayed_outcome::<S>(cx, state_name, attempt),
        };
    }
    cx.flush().await.map_err(failed)?;
    // The callback exists, durably, before the step can hand out its token.
    let token_hash = match (&token, real) {
        (Some(token), true) => {
            Box::pin(callback::create(cx, state, scheduled, token))
                .await
                .map_err(failed)?;
            Some(token.hash())
        }
        _ => None,
    };
    let body = async {
        let mut running = std::pin::pin!(running);
        let polled = std::future::poll_fn(|task| panic::poll_catching(running.as_mut(), task));
        match polled.await {
            Ok(Ok(Ok(output))) => Ok(output),
            Ok(Ok(Err(_callback))) => match &token_hash {
                Some(hash) => {
                    Box::pin(callback::wait::<S>(cx, state, hash, heartbeat.as_ref())).await
                }
                None => Err(callback_without_token(state_name)),
            },
            Ok(Err(error)) => Err(ExecutionFailure::from_step_error(state_name, error)),
            Err(message) => Err(step_panicked::<S>(state_name, &message)),
        }
    };
    let timers = Timers::new(timers, heartbeat.as_ref(), started_at);
    let outcome = timed::<S, _>(cx, state, timers, body, token_hash.as_deref()).await;
    if let (Some(hash), Err(_)) = (&token_hash, &outcome) {
        // The attempt ended without its callback: the token stops working.
        Box::pin(callback::expire(cx, hash)).await;
    }
    outcome
}

/// Whether a replayed attempt stopped while waiting for its callback: nothing after its
/// TaskStarted but (perhaps) TaskSubmitted.
fn replay_awaits_callback(cx: &ExecutionContext<'_>) -> bool {
    matches!(
        cx.replay_next().map(|event| event.kind),
        None | Some(EventType::TaskSubmitted)
    )
}

/// The timers of an attempt: its timeout, counted from when it started, and its heartbeat.
struct Timers<'a> {
    timeout: Option<Duration>,
    heartbeat: Option<(Duration, &'a Arc<Heartbeat>)>,
    started_at: SystemTime,
}

impl<'a> Timers<'a> {
    fn new(
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
}

/// Runs `body` under the attempt's timers. When a timer ends a callback attempt, the callback
/// is expired, unless it was completed in the meantime: then that completion stands.
async fn timed<S: Step, F>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    timers: Timers<'_>,
    body: F,
    callback: Option<&str>,
) -> Result<S::Output, FailedAttempt>
where
    F: std::future::Future<Output = Result<S::Output, ExecutionFailure>>,
{
    match (timers.timeout, timers.heartbeat) {
        // The common case: no timer at all.
        (None, None) => body.await.map_err(|failure| FailedAttempt {
            failure,
            timed_out: false,
            heartbeat: false,
        }),
        // Boxed: the timers' futures would make every attempt's future larger.
        _ => Box::pin(under_timers::<S, F>(cx, state, timers, body, callback)).await,
    }
}

/// [`timed`] with a timeout and/or a heartbeat.
async fn under_timers<S: Step, F>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    timers: Timers<'_>,
    body: F,
    callback: Option<&str>,
) -> Result<S::Output, FailedAttempt>
where
    F: std::future::Future<Output = Result<S::Output, ExecutionFailure>>,
{
    let state_name = cx.state_name(state);
    let (timeout, heartbeat) = (timers.timeout, timers.heartbeat);
    let clock = Arc::clone(cx.clock());
    // Counted from the attempt's start, also when a wait resumes after a restart.
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
    // Dropping the step's future on a timeout cancels it.
    let (heartbeat_silent, cause) = tokio::select! {
        biased;
        result = body => return result.map_err(|failure| FailedAttempt { failure, timed_out: false, heartbeat: false }),
        () = deadline => (false, format!(
            "step `{}` did not finish within {}",
            S::INFO.name(),
            humantime::format_duration(timeout.unwrap_or_default())
        )),
        () = silence => (true, format!(
            "step `{}` sent no heartbeat for {}",
            S::INFO.name(),
            humantime::format_duration(heartbeat.map_or(Duration::ZERO, |(interval, _)| interval))
        )),
    };
    if let Some(hash) = callback {
        if let Some(completed) = callback::settle::<S>(cx, state, hash).await {
            return completed.map_err(|failure| FailedAttempt {
                failure,
                timed_out: false,
                heartbeat: false,
            });
        }
    }
    Err(timed_out(state_name, cause, heartbeat_silent))
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
        heartbeat: false,
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
            heartbeat_timeout,
            ..
        }) => Err(FailedAttempt {
            failure: ExecutionFailure::new(Some(state_name), error.unwrap_or_default(), cause.unwrap_or_default()),
            timed_out: kind == EventType::TaskTimedOut,
            heartbeat: heartbeat_timeout,
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

fn timed_out(state: &str, cause: String, heartbeat: bool) -> FailedAttempt {
    FailedAttempt {
        failure: ExecutionFailure::predefined(Some(state), States::Timeout, cause),
        timed_out: true,
        heartbeat,
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
        event.heartbeat_timeout = failed.heartbeat;
    })
}

/// TaskSucceeded and TaskStateExited. They become durable with the next commit the execution
/// makes — before its next step starts, before it waits, or with its end — rather than in a
/// commit of their own: only the engine's own transitions run in between, so a crash loses no
/// more than it would between the step's return and a commit here, and an execution of n task
/// states makes n + 1 commits instead of 2n + 1.
fn exit<O: crate::step::Payload>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    output: O,
) -> Result<O, Unusable> {
    // A replay reads the stored output back: it must read as what the step returned.
    let succeeded = cx
        .check_reads_back(Some(state), "output", &output)
        .and_then(|()| {
            cx.record_payload(
                EventType::TaskSucceeded,
                Some(state),
                None::<&()>,
                Some(&output),
            )
        });
    let succeeded = match succeeded {
        Ok(succeeded) => succeeded,
        // As Step Functions records a task whose result is over the limit: the attempt failed.
        Err(failure) if failure.error() == States::DataLimitExceeded => {
            return Err(Unusable::FailedAttempt(FailedAttempt {
                failure,
                timed_out: false,
                heartbeat: false,
            }))
        }
        // The step did succeed; what it returned then fails the state, as an output path
        // that does not apply fails it on AWS after TaskSucceeded.
        Err(failure) => {
            cx.record(EventType::TaskSucceeded, Some(state), |_| {});
            return Err(Unusable::FailsState(failure));
        }
    };
    cx.record_payload_at(
        succeeded.new_time(),
        EventType::TaskStateExited,
        Some(state),
        None::<&()>,
        Some(&output),
    )
    .map_err(Unusable::FailsState)?;
    Ok(output)
}

/// Why a step's output cannot be the state's output.
enum Unusable {
    /// Over the payload limit: the attempt failed (`States.DataLimitExceeded`), and retriers
    /// and catchers apply.
    FailedAttempt(FailedAttempt),
    /// It cannot be stored or read back (`States.Runtime`): the state fails.
    FailsState(ExecutionFailure),
}
