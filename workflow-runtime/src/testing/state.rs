//! Testing one state on its own, as Step Functions' TestState does: a state, an input, and
//! perhaps mocks and a number of retries already used; back come where the execution would go
//! next (or how it ends) and the events the state records.

use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Expect, Harness};
use crate::engine::{ExecutionContext, StateOutcome};
use crate::execution::ExecutionFailure;
use crate::history::History;
use crate::step::States;
use crate::workflow::Workflow;
use workflow_core::definition::StateKind;

/// A test of state `state` of workflow `W`; made by [`Harness::state`].
#[derive(Debug)]
#[must_use = "a state test does nothing until `run`"]
pub struct StateTest<'h, W> {
    harness: &'h Harness,
    state: String,
    retried: u32,
    workflow: PhantomData<fn() -> W>,
}

impl<'h, W: Workflow> StateTest<'h, W> {
    pub(super) fn new(harness: &'h Harness, state: &str) -> Self {
        StateTest {
            harness,
            state: state.to_owned(),
            retried: 0,
            workflow: PhantomData,
        }
    }

    /// Runs the state as though each of its retriers had used `retries` retries already: with
    /// `max_attempts` of them used, the next failure goes to the catchers.
    pub fn retried(mut self, retries: u32) -> Self {
        self.retried = retries;
        self
    }

    /// Runs the state once on `input` (its input type, or anything that serializes to it).
    /// Retries happen inside the state, on virtual time; the next state is not run.
    ///
    /// # Panics
    ///
    /// If `W` is not registered or has no state of that name: the test is wrong, and says so.
    #[track_caller]
    pub fn run<I: Serialize>(
        self,
        input: I,
    ) -> impl std::future::Future<Output = StateResult> + 'h {
        let caller = std::panic::Location::caller();
        let input = serde_json::to_value(input);
        async move {
            let definition = W::definition();
            let Some((id, state)) = definition.state_by_name(&self.state) else {
                let names: Vec<&str> = definition.states.iter().map(|s| s.name.as_str()).collect();
                panic!(
                    "{caller}: `{}` has no state `{}`; its states: {}",
                    definition.name,
                    self.state,
                    names.join(", ")
                );
            };
            let input = match input {
                Ok(input) => input,
                Err(error) => panic!("{caller}: the test input does not serialize: {error}"),
            };
            let mut shared = match self.harness.runtime.test_shared::<W>() {
                Ok(shared) => shared,
                Err(error) => panic!("{caller}: cannot test `{}`: {error}", W::name()),
            };
            shared.retries_done = self.retried;
            let clock = std::sync::Arc::clone(&shared.clock);
            let started = clock.now();
            let outcome = {
                let cx = ExecutionContext::root(&shared);
                let running = W::test_state(id, input.clone(), &cx);
                match running {
                    Some(running) => running.await,
                    None => match &state.kind {
                        StateKind::Fail(fail) => StateOutcome::Failed(ExecutionFailure::new(
                            Some(&state.name),
                            fail.error.clone().unwrap_or_default(),
                            fail.cause.clone().unwrap_or_default(),
                        )),
                        StateKind::Succeed => StateOutcome::End { output: input },
                        _ => StateOutcome::Failed(ExecutionFailure::predefined(
                            Some(&state.name),
                            States::Runtime,
                            "the state cannot be tested on its own",
                        )),
                    },
                }
            };
            let elapsed = clock.now().duration_since(started).unwrap_or_default();
            let (history, _) = shared.into_parts();
            StateResult {
                outcome,
                history,
                elapsed,
            }
        }
    }
}

/// How a tested state ended, and what it recorded.
#[derive(Debug, Clone)]
pub struct StateResult {
    outcome: StateOutcome,
    history: History,
    elapsed: Duration,
}

impl StateResult {
    /// Where the execution would go, or how it ends.
    pub fn outcome(&self) -> &StateOutcome {
        &self.outcome
    }

    /// The state the execution would go to next, if any.
    pub fn next_state(&self) -> Option<&str> {
        match &self.outcome {
            StateOutcome::Next { state, .. } => Some(state),
            _ => None,
        }
    }

    /// The state's output as `T`: the next state's input, or the output it ends with. `None`
    /// if the state failed or the output does not read as `T`.
    pub fn output<T: DeserializeOwned>(&self) -> Option<T> {
        match &self.outcome {
            StateOutcome::Next { input: value, .. } | StateOutcome::End { output: value } => {
                serde_json::from_value(value.clone()).ok()
            }
            StateOutcome::Failed(_) => None,
        }
    }

    /// The failure, if the state failed and no catcher took over.
    pub fn failure(&self) -> Option<&ExecutionFailure> {
        match &self.outcome {
            StateOutcome::Failed(failure) => Some(failure),
            _ => None,
        }
    }

    /// The events the state recorded.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// How much (virtual) time the state took, retries included.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Assertions over the state's events (attempts, catches).
    pub fn expect(&self) -> Expect<'_> {
        Expect::new(&self.history, self.failure())
    }
}
