//! The machine that runs every ASL workflow: one state at a time, through the engine's
//! functions (which record the history and apply retriers, catchers and timers), with the
//! States Language's data flow around them.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use workflow_core::definition::StateId;
use workflow_runtime::__private_v0_1::{
    entering, record_evaluation_failed, Advance, ExecutionContext, Machine,
};
use workflow_runtime::ExecutionFailure;

use super::account::AwsAccount;
use super::context::Facts;
use super::program::Program;
use super::task_steps::Pattern;
use crate::definition::{Catcher, ResultShaping, State, StateKind, Transition};
use crate::error::DataError;
use crate::flow::{assigned, place, select, shape};
use crate::path::Scope;
use crate::random::Draws;

/// What an ASL machine starts with: its JSON input and, for a Parallel branch or a Map
/// iteration, the state it starts in and the execution's input (for `$$.Execution.Input`).
/// Only the JSON is serialised: the history records a branch's input as the JSON alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct AslInput {
    value: Value,
    #[serde(skip)]
    start: Option<StateId>,
    #[serde(skip)]
    execution_input: Option<Arc<Value>>,
    /// The variables of the scope the branch is in, which it reads but does not change.
    #[serde(skip)]
    variables: Option<Arc<Variables>>,
}

/// The variables `Assign` sets, by name.
pub(super) type Variables = Map<String, Value>;

impl AslInput {
    /// The input of a branch or iteration of `run`'s state, starting in `start`.
    pub(super) fn branch(value: Value, start: StateId, run: &Run<'_, '_>) -> Self {
        AslInput {
            value,
            start: Some(start),
            execution_input: Some(Arc::clone(&run.execution_input)),
            variables: Some(Arc::clone(&run.variables)),
        }
    }
}

/// An ASL workflow's execution (or branch, or iteration) in one of its states.
pub(crate) struct AslMachine {
    pub(super) state: StateId,
    pub(super) input: Value,
    pub(super) execution_input: Arc<Value>,
    pub(super) variables: Arc<Variables>,
}

impl Machine for AslMachine {
    type Input = AslInput;
    type Output = Value;

    fn start(input: AslInput, cx: &ExecutionContext<'_>) -> Advance<Self, Value> {
        let execution_input = input
            .execution_input
            .unwrap_or_else(|| Arc::new(input.value.clone()));
        Advance::Next(AslMachine {
            state: input.start.unwrap_or(cx.workflow_definition().start_at),
            input: input.value,
            execution_input,
            variables: input.variables.unwrap_or_default(),
        })
    }

    // Written out rather than `async fn`: a branch runs this same machine, and an `async fn`
    // here makes its own type part of the future it infers (a cycle the compiler refuses).
    #[allow(clippy::manual_async_fn)]
    fn advance<'c>(
        self,
        cx: &'c ExecutionContext<'_>,
        once: bool,
    ) -> impl Future<Output = Advance<Self, Value>> + Send + 'c {
        async move {
            let mut machine = self;
            loop {
                match machine.run_state(cx).await {
                    Advance::Next(next) if !once => {
                        entering(cx, &next);
                        machine = next;
                    }
                    done => return done,
                }
            }
        }
    }

    fn state(&self) -> StateId {
        self.state
    }

    fn input_json(&self) -> Result<Value, serde_json::Error> {
        Ok(self.input.clone())
    }
}

/// A state being run: the machine's, with what it needs from the execution.
pub(super) struct Run<'c, 's> {
    pub(super) cx: &'c ExecutionContext<'s>,
    pub(super) id: StateId,
    pub(super) state: &'static State,
    pub(super) account: &'static AwsAccount,
    pub(super) execution_input: Arc<Value>,
    pub(super) variables: Arc<Variables>,
    /// This visit of the state, known once it is entered.
    visit: OnceLock<Visit>,
    /// How many times a Task state's step was retried, for `$$.State.RetryCount`.
    pub(super) retries: AtomicU32,
}

/// One visit of a state: when it was entered (as recorded, so that a resumed execution sees
/// the same `$$.State.EnteredTime`), and the random draws seeded by it.
struct Visit {
    entered_at: std::time::SystemTime,
    draws: Draws,
}

impl AslMachine {
    async fn run_state(self, cx: &ExecutionContext<'_>) -> Advance<Self, Value> {
        let definition = cx.workflow_definition();
        let Some((program, state)) = definition
            .program
            .code::<Program>()
            .and_then(|program| Some((program, program.state(self.state)?)))
        else {
            return Advance::Failed(ExecutionFailure::new(
                None,
                "States.Runtime",
                format!(
                    "workflow `{}` has no ASL state {}",
                    definition.name, self.state
                ),
            ));
        };
        let run = Run {
            cx,
            id: self.state,
            state,
            account: &program.account,
            execution_input: self.execution_input,
            variables: self.variables,
            visit: OnceLock::new(),
            retries: AtomicU32::new(0),
        };
        let raw = self.input;
        let jsonata = state.query_language == crate::definition::QueryLanguage::Jsonata;
        let (cx, id) = (run.cx, run.id);
        let advance = match (&state.kind, jsonata) {
            (StateKind::Pass(_), false) => run.pass(raw),
            (StateKind::Pass(_), true) => run.pass_jsonata(raw),
            (StateKind::Choice(_), false) => run.choice(raw),
            (StateKind::Choice(_), true) => run.choice_jsonata(raw),
            (StateKind::Wait(wait), false) => run.wait(wait, raw).await,
            (StateKind::Wait(wait), true) => run.wait_jsonata(wait, raw).await,
            (StateKind::Succeed, false) => run.succeed(raw),
            (StateKind::Succeed, true) => run.succeed_jsonata(raw),
            (StateKind::Fail(fail), false) => run.fail(fail, raw),
            (StateKind::Fail(fail), true) => {
                run.fail_jsonata(fail.error.as_ref(), fail.cause.as_ref(), raw)
            }
            // Both languages: the step's input and output are worked out in the state's own.
            (StateKind::Task(task), _) => {
                run.task(
                    &task.shaping,
                    task.timeout.as_ref(),
                    task.heartbeat.as_ref(),
                    raw,
                    Pattern::of(&task.resource) != Pattern::RequestResponse,
                )
                .await
            }
            (StateKind::Parallel(parallel), false) => run.parallel(parallel, raw).await,
            (StateKind::Parallel(parallel), true) => run.parallel_jsonata(parallel, raw).await,
            (StateKind::Map(map), false) => run.map(map, raw).await,
            (StateKind::Map(map), true) => run.map_jsonata(map, raw).await,
        };
        // A JSONata expression of this state that fails is recorded as such before the
        // execution fails, as Step Functions records it (Parallel and Map states record it
        // themselves, before their own failure).
        let composite = matches!(state.kind, StateKind::Parallel(_) | StateKind::Map(_));
        if let Advance::Failed(failure) = &advance {
            if jsonata
                && !composite
                && failure.error() == crate::jsonata::QUERY_EVALUATION_ERROR
                && failure.state() == Some(state.name.as_str())
            {
                record_evaluation_failed(cx, id, failure);
            }
        }
        advance
    }
}

impl Run<'_, '_> {
    /// The failure of this state for a data-flow error, worded as Step Functions words it.
    pub(super) fn failure(&self, error: &DataError) -> ExecutionFailure {
        ExecutionFailure::new(
            Some(&self.state.name),
            error.error,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                self.state.name,
                self.cx.latest_event_id(),
                error.cause
            ),
        )
    }

    /// This visit of the state, from its entry (the last event of the lane when first
    /// asked, which the states ask once they are entered).
    fn visit(&self) -> &Visit {
        self.visit.get_or_init(|| {
            let entry = self.cx.latest_event_id().to_string();
            Visit {
                entered_at: self.cx.latest_event_time(),
                draws: Draws::for_visit(&[
                    self.cx.execution_id().as_str().as_bytes(),
                    self.state.name.as_bytes(),
                    entry.as_bytes(),
                ]),
            }
        })
    }

    /// The context object of this state.
    pub(super) fn context(&self, item: Option<(usize, &Value)>) -> Value {
        Facts {
            account: self.account,
            workflow: &self.cx.workflow_definition().name,
            execution: self.cx.execution_id().as_str(),
            execution_input: &self.execution_input,
            started_at: self.cx.execution_started_at(),
            state: &self.state.name,
            entered_at: self.visit().entered_at,
            // Only a Task state's context counts its retries.
            retry_count: matches!(self.state.kind, StateKind::Task(_))
                .then(|| self.retries.load(Ordering::Relaxed)),
        }
        .object(item)
    }

    /// What paths read besides their input: the context object `context` and the variables.
    pub(super) fn around<'v>(&'v self, context: &'v Value) -> Scope<'v> {
        Scope {
            input: &Value::Null,
            context,
            variables: Some(&self.variables),
            draws: Some(&self.visit().draws),
        }
    }

    /// This state with the variables `assigned` set, for the states after it.
    #[must_use]
    pub(super) fn with_assigned(mut self, assigned: Option<Variables>) -> Self {
        if let Some(assigned) = assigned {
            Arc::make_mut(&mut self.variables).extend(assigned);
        }
        self
    }

    /// The machine in the next state with `input`, or the end with it as the output.
    pub(super) fn go_on(self, input: Value) -> Advance<AslMachine, Value> {
        match &self.state.transition {
            Some(Transition::Next(next)) => self.go_to(next, input),
            _ => Advance::Succeeded(input),
        }
    }

    pub(super) fn go_to(self, name: &str, input: Value) -> Advance<AslMachine, Value> {
        match self.cx.workflow_definition().state_by_name(name) {
            Some((state, _)) => Advance::Next(AslMachine {
                state,
                input,
                execution_input: self.execution_input,
                variables: self.variables,
            }),
            None => Advance::Failed(self.failure(&DataError::runtime(format!(
                "the next state '{name}' does not exist"
            )))),
        }
    }

    /// A state's result shaped (`ResultSelector`), assigned from (`Assign`), placed
    /// (`ResultPath`) and selected (`OutputPath`): its output, and the variables it sets.
    pub(super) fn finish(
        &self,
        shaping: &ResultShaping,
        raw: Value,
        result: Value,
    ) -> Result<(Value, Option<Variables>), ExecutionFailure> {
        let fail = |error: DataError| self.failure(&error);
        let context = self.context(None);
        let around = self.around(&context);
        let shaped = shape(shaping.result_selector.as_ref(), result, &around).map_err(fail)?;
        let assigned = assigned(self.state.assign.as_ref(), &shaped, &around).map_err(fail)?;
        let placed = place(&shaping.result_path, raw, shaped).map_err(fail)?;
        let output = select(&self.state.output_path, placed, &around).map_err(fail)?;
        Ok((output, assigned))
    }

    /// The state's input after `InputPath` and `Parameters` (or a Map's `ItemSelector`
    /// aside): what its work takes.
    pub(super) fn effective(
        &self,
        shaping: &ResultShaping,
        raw: &Value,
    ) -> Result<Value, ExecutionFailure> {
        let context = self.context(None);
        let around = self.around(&context);
        let selected = select(&self.state.input_path, raw.clone(), &around)
            .map_err(|error| self.failure(&error))?;
        shape(shaping.parameters.as_ref(), selected, &around).map_err(|error| self.failure(&error))
    }

    /// What catcher `index` hands on of a failure: the error placed in the state's raw input
    /// (`ResultPath`, `OutputPath`), and the variables it assigns.
    pub(super) fn catch_output(
        &self,
        catchers: &[Catcher],
        index: usize,
        raw: Value,
        error: &str,
        cause: &str,
    ) -> Result<(Value, Option<Variables>), ExecutionFailure> {
        let Some(catcher) = catchers.get(index) else {
            return Err(self.failure(&DataError::runtime("no such catcher")));
        };
        let error_output = json!({"Error": error, "Cause": cause});
        let context = self.context(None);
        let around = self.around(&context);
        // The catcher's output is its error placed in the raw input: the state's
        // `OutputPath` selects from its own result only, as Step Functions does.
        assigned(catcher.assign.as_ref(), &error_output, &around)
            .and_then(|assigned| Ok((place(&catcher.result_path, raw, error_output)?, assigned)))
            .map_err(|error| self.failure(&error))
    }

    /// The execution going on at catcher `index`'s target with `output`.
    pub(super) fn go_caught(
        self,
        catchers: &[Catcher],
        index: usize,
        output: Value,
        assigned: Option<Variables>,
    ) -> Advance<AslMachine, Value> {
        match catchers.get(index) {
            Some(catcher) => {
                let next = catcher.next.clone();
                self.with_assigned(assigned).go_to(&next, output)
            }
            None => Advance::Failed(self.failure(&DataError::runtime("no such catcher"))),
        }
    }
}
