//! The attempts of a Task state, retried and caught as its policies say.
//!
//! The loop that runs them is not generic: it sees the step through [`StepFacts`] and the rest
//! of what is typed (the attempt's input, the state's output, what a catcher's target gets)
//! through [`Typed`], whose methods are small. Generic, it was compiled once for every task
//! state with a retrier or catcher: a sixth of the code a workflow of many states made.

use std::marker::PhantomData;
use std::time::SystemTime;

use workflow_core::definition::{StateId, TaskState};

use crate::engine::counts::RetryCounts;
use crate::engine::settings::{ComputedTimers, TaskTimers};
use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{Caught, Payload, States, StepEnv};

use super::attempt::{attempt, FailedAttempt};
use super::erased::{self, not_held, AnyOutput, CallStep, StepFacts};
use super::invoke::Invocation;
use super::{exit, record_failed_attempt, usable_timers, wait_until, TaskEnd, Unusable};

/// How the attempts ended; what is typed (the output, what a catcher's target gets) is kept
/// by the [`Typed`] side.
pub(super) enum Ended {
    Succeeded,
    Caught(usize),
    Failed(ExecutionFailure),
}

/// The typed side of a Task state's attempts.
pub(super) trait Typed: Send {
    /// Makes the input of the attempt after `retries` retries, or fails the state.
    fn prepare(&mut self, retries: u32) -> Result<(), ExecutionFailure>;

    /// The call of the prepared attempt.
    fn call(
        &mut self,
        cx: &ExecutionContext<'_>,
        state_name: &'static str,
        env: &StepEnv<'_>,
    ) -> Result<Invocation, FailedAttempt>;

    /// The step's output made the state's, and TaskSucceeded and TaskStateExited recorded.
    fn exit(
        &mut self,
        cx: &ExecutionContext<'_>,
        state: StateId,
        step: &StepFacts,
        output: AnyOutput,
    ) -> Result<(), Unusable>;

    /// Catcher `index` takes over from `failure`: what its target gets is made and recorded
    /// with TaskStateExited.
    fn catch(
        &mut self,
        cx: &ExecutionContext<'_>,
        state: StateId,
        index: usize,
        failure: &ExecutionFailure,
    ) -> Result<(), ExecutionFailure>;
}

/// The attempts of a Task state entered at `at` (when that was recorded anew), retried and
/// caught as its policies say, their typed side in `typed`.
pub(super) async fn attempts(
    cx: &ExecutionContext<'_>,
    state: StateId,
    task: &'static TaskState,
    computed: ComputedTimers,
    step: &StepFacts,
    typed: &mut dyn Typed,
    mut at: Option<SystemTime>,
) -> Ended {
    // A computed timer out of range is a `States.Runtime` failure: never retried or caught.
    let timers = match usable_timers(cx, state, TaskTimers::of(task, computed)) {
        Ok(timers) => timers,
        Err(failure) => return Ended::Failed(failure),
    };
    let mut counts = RetryCounts::starting_at(cx.shared.retries_done);
    let mut attempt_number = 1;
    loop {
        // The first attempt is scheduled as the state is entered; later ones after a wait.
        let scheduled_at = at.take();
        if let Err(failure) = typed.prepare(attempt_number - 1) {
            return Ended::Failed(failure);
        }
        let attempted = attempt(
            cx,
            state,
            step,
            &mut |cx, state_name, env| typed.call(cx, state_name, env),
            timers,
            attempt_number,
            scheduled_at,
        )
        .await;
        let failed = match attempted {
            Ok(output) => match typed.exit(cx, state, step, output) {
                Ok(()) => return Ended::Succeeded,
                // An output over the size limit fails the attempt; retriers and catchers
                // apply.
                Err(Unusable::FailedAttempt(failed)) => failed,
                Err(Unusable::FailsState(failure)) => return Ended::Failed(failure),
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
            return Ended::Failed(failure);
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
            Some(index) => match typed.catch(cx, state, index, &failed.failure) {
                Ok(()) => Ended::Caught(index),
                Err(failure) => Ended::Failed(failure),
            },
            None => Ended::Failed(failed.failure),
        };
    }
}

/// [`Typed`] for a step taking `I` and returning `R` (called through `call`), the state's
/// output `O` and what a catcher's target gets, `C`. Generic over those types and not over
/// the step: states whose steps take and return the same types share its code.
pub(super) struct TypedAttempts<I, R, O, C, In, Finish, OnCaught> {
    /// The state's input, from which each attempt's is made; a catcher's target gets it.
    input: Option<I>,
    input_of: In,
    /// The input of the attempt about to run.
    prepared: Option<I>,
    call: CallStep<I>,
    finish: Finish,
    on_caught: Option<OnCaught>,
    succeeded: Option<O>,
    caught: Option<C>,
    step_output: PhantomData<fn() -> R>,
}

impl<I, R, O, C, In, Finish, OnCaught> TypedAttempts<I, R, O, C, In, Finish, OnCaught> {
    /// The typed side of attempts from the state's `input`, each calling the step through
    /// `call`: each attempt's input is `input_of` it and the number of retries before;
    /// `finish` makes the state's output of a successful step's, `on_caught` what a
    /// catcher's target gets of the failure.
    pub(super) fn new(
        input: I,
        call: CallStep<I>,
        input_of: In,
        finish: Finish,
        on_caught: OnCaught,
    ) -> Self {
        TypedAttempts {
            input: Some(input),
            input_of,
            prepared: None,
            call,
            finish,
            on_caught: Some(on_caught),
            succeeded: None,
            caught: None,
            step_output: PhantomData,
        }
    }

    /// How the state ended, with what is typed of it.
    pub(super) fn end(
        self,
        cx: &ExecutionContext<'_>,
        state: StateId,
        ended: Ended,
    ) -> TaskEnd<O, C> {
        match (ended, self.succeeded, self.caught) {
            (Ended::Succeeded, Some(output), _) => TaskEnd::Succeeded(output),
            (Ended::Caught(index), _, Some(caught)) => TaskEnd::Caught(index, caught),
            (Ended::Failed(failure), _, _) => TaskEnd::Failed(failure),
            // Not met: what the ending says was kept.
            _ => TaskEnd::Failed(not_held(cx.state_name(state), "its outcome")),
        }
    }
}

impl<I, R, O, C, In, Finish, OnCaught> Typed for TypedAttempts<I, R, O, C, In, Finish, OnCaught>
where
    I: Payload,
    R: Payload,
    O: serde::Serialize + Send,
    C: serde::Serialize + Send,
    In: FnMut(&I, u32) -> Result<I, ExecutionFailure> + Send,
    Finish: FnMut(R) -> Result<O, ExecutionFailure> + Send,
    OnCaught: FnOnce(usize, Caught<I>) -> Result<C, ExecutionFailure> + Send,
{
    fn prepare(&mut self, retries: u32) -> Result<(), ExecutionFailure> {
        if let Some(input) = &self.input {
            self.prepared = Some((self.input_of)(input, retries)?);
        }
        Ok(())
    }

    fn call(
        &mut self,
        cx: &ExecutionContext<'_>,
        state_name: &'static str,
        env: &StepEnv<'_>,
    ) -> Result<Invocation, FailedAttempt> {
        match self.prepared.take() {
            Some(input) => (self.call)(cx, state_name, input, env),
            None => Err(FailedAttempt::from(not_held(
                state_name,
                "its attempt's input",
            ))),
        }
    }

    fn exit(
        &mut self,
        cx: &ExecutionContext<'_>,
        state: StateId,
        step: &StepFacts,
        output: AnyOutput,
    ) -> Result<(), Unusable> {
        let output = erased::typed::<R>(cx.state_name(state), step, output)
            .map_err(|failure| Unusable::FailedAttempt(FailedAttempt::from(failure)))?;
        self.succeeded = Some(exit(cx, state, output, &mut self.finish)?);
        Ok(())
    }

    fn catch(
        &mut self,
        cx: &ExecutionContext<'_>,
        state: StateId,
        index: usize,
        failure: &ExecutionFailure,
    ) -> Result<(), ExecutionFailure> {
        let state_name = cx.state_name(state);
        let (Some(input), Some(on_caught)) = (self.input.take(), self.on_caught.take()) else {
            return Err(not_held(state_name, "its input, for its catcher"));
        };
        let caught = Caught {
            input,
            state: state_name.to_owned(),
            error: failure.error().to_owned(),
            cause: failure.cause().to_owned(),
        };
        // What the catch target gets, which the exit records.
        let handed = on_caught(index, caught)?;
        cx.record_payload(
            EventType::TaskStateExited,
            Some(state),
            None::<&()>,
            Some(&handed),
        )?;
        self.caught = Some(handed);
        Ok(())
    }
}
