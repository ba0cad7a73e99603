//! Task states: run a step, with its timeout, heartbeat, retriers and catchers, and record
//! every attempt.
//!
//! In a durable execution, TaskStarted is made durable before the step's future is first
//! polled, and the outcome before the next state begins. When a resumed execution replays a
//! task, a stored outcome is returned instead of running the step again; a task stored as
//! started without an outcome was running when its worker was lost, and fails with
//! `States.TaskFailed` rather than run twice (a retrier for that error may run it again).
//!
//! This module runs the state: its attempts, retried and caught as its policies say. One
//! attempt is composed of layers around the step's call, in [`attempt`].

mod attempt;
mod direct;
pub(crate) mod erased;
mod invoke;
#[cfg(feature = "testing")]
mod mocked;
mod policies;
mod replay;
mod timers;

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::facts::facts;
use crate::step::{Caught, Payload, States, Step};
use workflow_core::definition::{StateId, StateKind, TaskEvents, TaskState};

use self::attempt::{attempt, FailedAttempt};
use self::direct::DirectTask;
use self::erased::{CallStep, StepFacts};
use self::policies::TypedAttempts;
use super::panic;
use super::recorder::Recorded;
use super::settings::{ComputedTimers, TaskTimers};
use super::{Advance, ExecutionContext};

/// The events that record a Task state's attempts, by what runs it (`Task*`,
/// `LambdaFunction*`, `Activity*`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskKinds {
    pub(crate) scheduled: EventType,
    pub(crate) started: EventType,
    pub(crate) succeeded: EventType,
    pub(crate) failed: EventType,
    pub(crate) timed_out: EventType,
}

impl TaskKinds {
    const TASK: TaskKinds = TaskKinds {
        scheduled: EventType::TaskScheduled,
        started: EventType::TaskStarted,
        succeeded: EventType::TaskSucceeded,
        failed: EventType::TaskFailed,
        timed_out: EventType::TaskTimedOut,
    };

    /// The events of Task state `state`.
    pub(crate) fn of(cx: &ExecutionContext<'_>, state: StateId) -> TaskKinds {
        match cx.definition().state(state).map(|state| &state.kind) {
            Some(StateKind::Task(task)) => match task.step.events {
                TaskEvents::LambdaFunction => TaskKinds {
                    scheduled: EventType::LambdaFunctionScheduled,
                    started: EventType::LambdaFunctionStarted,
                    succeeded: EventType::LambdaFunctionSucceeded,
                    failed: EventType::LambdaFunctionFailed,
                    timed_out: EventType::LambdaFunctionTimedOut,
                },
                TaskEvents::Activity => TaskKinds {
                    scheduled: EventType::ActivityScheduled,
                    started: EventType::ActivityStarted,
                    succeeded: EventType::ActivitySucceeded,
                    failed: EventType::ActivityFailed,
                    timed_out: EventType::ActivityTimedOut,
                },
                _ => TaskKinds::TASK,
            },
            _ => TaskKinds::TASK,
        }
    }
}

/// How the attempts of a Task state ended, for a workflow defined at run time: a catcher's
/// target gets what its `on_caught` made of the failure.
#[derive(Debug)]
pub enum TaskEnd<O, C> {
    /// The step succeeded (perhaps after retries); the state's output.
    Succeeded(O),
    /// The step failed and the catcher with this index took over, with this.
    Caught(usize, C),
    /// The step failed and no catcher applies.
    Failed(ExecutionFailure),
}

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
    // What happens before and after the step's future is polled happens in calls to
    // functions generic over the payload types at most (`DirectTask`): only the call and the
    // polling are compiled for each step.
    let timers = match task_path(cx, state, computed, S::CALLBACK)? {
        Some(timers) => timers,
        None => {
            let task = DirectTask::enter(cx, state, &input)?;
            // `call` runs none of the step's code (it builds its future): only polling it is
            // guarded, in place.
            let running = S::call(input, &cx.step_env(state, S::INFO.name(), 1, None, None));
            let running = match running {
                Ok(running) => running,
                Err(missing) => return Err(task.uncallable(cx, &missing)),
            };
            task.started(cx)?;
            let mut running = std::pin::pin!(running);
            let returned =
                std::future::poll_fn(|task| panic::poll_catching(running.as_mut(), task)).await;
            return task.finish(cx, S::INFO.name(), returned, S::into_output);
        }
    };
    // Boxed: recording, timers, callbacks and replay make a large future, which every state's
    // future (and every direct task's) would otherwise carry and move. Boxed in a statement of
    // its own: a temporary of the statement that awaits lives across the await, and its
    // space would be kept in this future all the same.
    let recorded = Box::pin(run_recorded::<S::Input, S::Output>(
        cx,
        state,
        timers,
        input,
        facts::<S>(),
        invoke::invoke::<S>,
    ));
    recorded.await
}

/// How a Task state without retriers or catchers runs: `None` on the direct path (see
/// [`direct::is_direct`]), or the full path's timers; `callback` says whether its step hands
/// out a token.
#[cfg_attr(not(debug_assertions), inline(always))]
fn task_path(
    cx: &ExecutionContext<'_>,
    state: StateId,
    computed: ComputedTimers,
    callback: bool,
) -> Result<Option<Result<TaskTimers, String>>, ExecutionFailure> {
    let task = task_state(cx, state)?;
    let timers = TaskTimers::of(task, computed);
    match &timers {
        Ok(usable) if direct::is_direct(cx, callback, usable) => Ok(None),
        _ => Ok(Some(timers)),
    }
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

/// A task state without retriers or catchers, whose step takes `I` and returns `R`, on the
/// full path: generic over those types and not over the step (see [`erased`]).
async fn run_recorded<I: Payload, R: Payload>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    timers: Result<TaskTimers, String>,
    input: I,
    step: &'static StepFacts,
    call: CallStep<I>,
) -> Result<R, ExecutionFailure> {
    let entered = cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    )?;
    let timers = usable_timers(cx, state, timers)?;
    let attempted = attempt(
        cx,
        state,
        step,
        &mut erased::make_call(call, input),
        timers,
        1,
        entered.new_time(),
    )
    .await;
    let state_name = cx.state_name(state);
    let attempted = attempted.and_then(|output| Ok(erased::typed::<R>(state_name, step, output)?));
    let failed = match attempted {
        Ok(output) => match exit(cx, state, output, Ok) {
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
pub fn run_task_with_policies<'c, 'e, S: Step>(
    cx: &'c ExecutionContext<'e>,
    state: StateId,
    computed: ComputedTimers,
    input: S::Input,
    copy: fn(&S::Input) -> S::Input,
) -> impl Future<Output = TaskOutcome<S::Output, S::Input>> + use<'c, 'e, S> {
    // Not generic over the step beyond this: states whose steps take and return the same
    // types share the code that runs them.
    with_policies::<S::Input, S::Output>(
        cx,
        state,
        computed,
        input,
        copy,
        facts::<S>(),
        invoke::invoke::<S>,
    )
}

/// The future of a Task state with retriers and/or catchers in a machine of many states,
/// boxed, that ends in the machine's next step.
pub type TaskThen<'c, M, O> = Pin<Box<dyn Future<Output = Advance<M, O>> + Send + 'c>>;

/// The machine's next step after a task succeeded with its output (a function of the
/// generated code, one per state).
pub type Succeeded<R, M, O> = fn(R, &ExecutionContext<'_>) -> Advance<M, O>;

/// The machine's next step after the catcher with this index caught a task's error.
pub type CaughtBy<I, M, O> = fn(usize, Caught<I>, &ExecutionContext<'_>) -> Advance<M, O>;

/// A step as [`run_task_then`] calls it: its facts and its call, taking `I` and returning `R`.
pub struct TaskCall<I, R> {
    step: &'static StepFacts,
    call: CallStep<I>,
    output: PhantomData<fn() -> R>,
}

impl<I: Payload, R: Payload> TaskCall<I, R> {
    /// The call of step `S` (made in a constant: nothing of it is compiled per step but the
    /// call itself).
    pub const fn of<S: Step<Input = I, Output = R>>() -> Self {
        TaskCall {
            step: facts::<S>(),
            call: invoke::invoke::<S>,
            output: PhantomData,
        }
    }
}

/// [`run_task_with_policies`], boxed, ending in the machine's next step: `succeeded` makes it
/// of the step's output, `caught` of what a catcher caught (without catchers, `None`).
///
/// For the states of a machine of many states: their arms then hold no await of their own,
/// so the function holding them is not an `async` body, whose checks by rustc cost far more
/// per state (see `benches/compile.sh`), and nothing here is compiled per step. It costs a
/// box per state entered, beside the attempts' own (the step's future is boxed on this path).
#[allow(clippy::too_many_arguments)]
pub fn run_task_then<'c, I: Payload, R: Payload, M: Send + 'c, O: Send + 'c>(
    cx: &'c ExecutionContext<'_>,
    state: StateId,
    computed: ComputedTimers,
    input: I,
    copy: fn(&I) -> I,
    step: TaskCall<I, R>,
    succeeded: Succeeded<R, M, O>,
    caught: Option<CaughtBy<I, M, O>>,
) -> TaskThen<'c, M, O> {
    Box::pin(async move {
        match with_policies(cx, state, computed, input, copy, step.step, step.call).await {
            TaskOutcome::Succeeded(output) => succeeded(output, cx),
            TaskOutcome::Caught(catcher, value) => match caught {
                Some(caught) => caught(catcher, value, cx),
                None => no_catcher(cx, state),
            },
            TaskOutcome::Failed(failure) => Advance::Failed(failure),
        }
    })
}

/// A state without catchers whose task reports a caught error: not met in a correct build.
#[cold]
pub fn no_catcher<M, O>(cx: &ExecutionContext<'_>, state: StateId) -> Advance<M, O> {
    let name = cx.state_name(state);
    Advance::Failed(ExecutionFailure::predefined(
        Some(name),
        States::Runtime,
        format!("state `{name}` has no catcher, yet an error was caught"),
    ))
}

/// [`run_task_with_policies`] of a step taking `I` and returning `R`, through `call`.
async fn with_policies<I: Payload, R: Payload>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    computed: ComputedTimers,
    input: I,
    copy: fn(&I) -> I,
    step: &'static StepFacts,
    call: CallStep<I>,
) -> TaskOutcome<R, I> {
    let task = match task_state(cx, state) {
        Ok(task) => task,
        Err(failure) => return TaskOutcome::Failed(failure),
    };
    let at = match cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(&input),
        None::<&()>,
    ) {
        Ok(entered) => entered.new_time(),
        Err(failure) => return TaskOutcome::Failed(failure),
    };
    // The attempts' loop, not generic, awaited here: a generic function between would be
    // another state machine compiled for every pair of types.
    let mut typed = TypedAttempts::<I, R, R, Caught<I>, _, _, _>::new(
        input,
        call,
        move |input: &I, _| Ok(copy(input)),
        Ok,
        |_, caught| Ok(caught),
    );
    let ended = policies::attempts(cx, state, task, computed, step, &mut typed, at).await;
    match typed.end(cx, state, ended) {
        TaskEnd::Succeeded(output) => TaskOutcome::Succeeded(output),
        TaskEnd::Caught(index, caught) => TaskOutcome::Caught(index, caught),
        TaskEnd::Failed(failure) => TaskOutcome::Failed(failure),
    }
}

/// Runs a Task state whose step input is worked out once it is entered (a workflow defined
/// at run time, which selects and shapes its JSON): records TaskStateEntered with `entry`
/// (the state's raw input), then `prepare` gives the timers worked out from the input and the
/// step's input, or fails the state (not retried, not caught: `States.Runtime`). Then as
/// [`run_task_with_policies`], except that `finish` makes the state's output of the step's
/// (after TaskSucceeded, before TaskStateExited, which records it; its failure fails the
/// state), and `on_caught` what a catcher's target gets (which TaskStateExited records).
/// Each attempt's input is `again` of the prepared input and the number of retries before it
/// (0 for the first): the same input, or one that depends on that count (ASL's
/// `$$.State.RetryCount`); its failure fails the state as `prepare`'s does.
#[allow(clippy::too_many_arguments)]
pub async fn run_task_computed<
    S: Step,
    E: serde::Serialize + ?Sized,
    O: serde::Serialize + Send,
    C: serde::Serialize + Send,
>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    entry: &E,
    prepare: impl FnOnce() -> Result<(ComputedTimers, S::Input), ExecutionFailure>,
    again: impl FnMut(&S::Input, u32) -> Result<S::Input, ExecutionFailure> + Send,
    finish: impl FnMut(S::Output) -> Result<O, ExecutionFailure> + Send,
    on_caught: impl FnOnce(usize, Caught<S::Input>) -> Result<C, ExecutionFailure> + Send,
) -> TaskEnd<O, C> {
    let task = match task_state(cx, state) {
        Ok(task) => task,
        Err(failure) => return TaskEnd::Failed(failure),
    };
    let at = match cx.record_payload(
        EventType::TaskStateEntered,
        Some(state),
        Some(entry),
        None::<&()>,
    ) {
        Ok(entered) => entered.new_time(),
        Err(failure) => return TaskEnd::Failed(failure),
    };
    let (computed, input) = match prepare() {
        Ok(prepared) => prepared,
        Err(failure) => return TaskEnd::Failed(failure),
    };
    let mut typed = TypedAttempts::<S::Input, S::Output, O, C, _, _, _>::new(
        input,
        invoke::invoke::<S>,
        again,
        finish,
        on_caught,
    );
    let ended = policies::attempts(cx, state, task, computed, facts::<S>(), &mut typed, at).await;
    typed.end(cx, state, ended)
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
#[inline]
fn task_state(
    cx: &ExecutionContext<'_>,
    state: StateId,
) -> Result<&'static TaskState, ExecutionFailure> {
    match cx.definition().state(state).map(|state| &state.kind) {
        Some(StateKind::Task(task)) => Ok(task),
        _ => Err(not_a_task(cx, state)),
    }
}

/// Generated code only runs tasks for Task states; says so plainly if that ever breaks.
#[cold]
fn not_a_task(cx: &ExecutionContext<'_>, state: StateId) -> ExecutionFailure {
    let name = cx.state_name(state);
    ExecutionFailure::predefined(
        Some(name),
        States::Runtime,
        format!("state `{name}` was run as a Task state but is not one"),
    )
}

/// TaskFailed or TaskTimedOut for a failed attempt, with the delay if it will be retried.
fn record_failed_attempt(
    cx: &ExecutionContext<'_>,
    state: StateId,
    failed: &FailedAttempt,
    retry_in: Option<Duration>,
) -> Recorded {
    let kinds = TaskKinds::of(cx, state);
    let kind = if failed.timed_out {
        kinds.timed_out
    } else {
        kinds.failed
    };
    let recorded = cx.record(kind, Some(state), |event| {
        event.error = Some(failed.failure.error().to_owned());
        event.cause = Some(failed.failure.cause().to_owned());
        event.retry_in = retry_in;
        event.heartbeat_timeout = failed.heartbeat;
    });
    if retry_in.is_some() && recorded.replayed.is_none() {
        let workflow = cx.definition().name.as_str();
        crate::metrics::retried(workflow, cx.state_name(state), failed.failure.error());
    }
    recorded
}

/// TaskSucceeded and TaskStateExited. They become durable with the next commit the execution
/// makes — before its next step starts, before it waits, or with its end — rather than in a
/// commit of their own: only the engine's own transitions run in between, so a crash loses no
/// more than it would between the step's return and a commit here, and an execution of n task
/// states makes n + 1 commits instead of 2n + 1.
fn exit<O: crate::step::Payload, F: serde::Serialize>(
    cx: &ExecutionContext<'_>,
    state: StateId,
    output: O,
    finish: impl FnOnce(O) -> Result<F, ExecutionFailure>,
) -> Result<F, Unusable> {
    let succeeded_kind = TaskKinds::of(cx, state).succeeded;
    // A replay reads the stored output back: it must read as what the step returned.
    let succeeded = cx
        .check_reads_back(Some(state), "output", &output)
        .and_then(|()| cx.payload_json(state, "output", &output));
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
            cx.record(succeeded_kind, Some(state), |_| {});
            return Err(Unusable::FailsState(failure));
        }
    };
    let with_output = |output: Option<serde_json::Value>| {
        move |event: &mut crate::history::Event| {
            if let Some(output) = output {
                event.output.get_or_insert(output);
            }
        }
    };
    // What the state hands on, from the step's output (for a workflow defined at run time:
    // its result selected and placed); failing here fails the state after TaskSucceeded.
    let exited = finish(output).and_then(|output| {
        let json = cx.payload_json(state, "output", &output)?;
        Ok((output, json))
    });
    match exited {
        Ok((output, exited)) => {
            cx.record_two_at(
                None,
                state,
                (succeeded_kind, with_output(succeeded)),
                (EventType::TaskStateExited, with_output(exited)),
            );
            Ok(output)
        }
        Err(failure) => {
            cx.record(succeeded_kind, Some(state), with_output(succeeded));
            Err(Unusable::FailsState(failure))
        }
    }
}

/// Why a step's output cannot be the state's output.
enum Unusable {
    /// Over the payload limit: the attempt failed (`States.DataLimitExceeded`), and retriers
    /// and catchers apply.
    FailedAttempt(FailedAttempt),
    /// It cannot be stored or read back (`States.Runtime`): the state fails.
    FailsState(ExecutionFailure),
}
