//! The machine that runs every ASL workflow: one state at a time, through the engine's
//! functions (which record the history and apply retriers, catchers and timers), with the
//! States Language's data flow around them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow_core::definition::{StateId, StateKind as CoreKind};
use workflow_runtime::__private_v0_1::{
    enter_choice_computed, enter_fail_computed, enter_succeed, entering, run_branch, run_map,
    run_map_tolerant, run_pass_computed, run_task_computed, run_wait_computed, Advance, Attempts,
    ComputedMapLimits, ComputedTimers, ExecutionContext, Machine, Settled, TaskOutcome, Wake,
};
use workflow_runtime::ExecutionFailure;

use super::context::Facts;
use super::handlers::AslTask;
use super::program::Program;
use crate::definition::{
    Catcher, Fail, Map, Parallel, ResultShaping, Setting, State, StateKind, Transition, Wait,
};
use crate::error::DataError;
use crate::flow::{place, select, shape};
use crate::path::{JsonPath, Scope};

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
}

impl AslInput {
    fn branch(value: Value, start: StateId, execution_input: &Arc<Value>) -> Self {
        AslInput {
            value,
            start: Some(start),
            execution_input: Some(Arc::clone(execution_input)),
        }
    }
}

/// An ASL workflow's execution (or branch, or iteration) in one of its states.
pub(crate) struct AslMachine {
    state: StateId,
    input: Value,
    execution_input: Arc<Value>,
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
struct Run<'c, 's> {
    cx: &'c ExecutionContext<'s>,
    id: StateId,
    state: &'static State,
    execution_input: Arc<Value>,
}

impl AslMachine {
    async fn run_state(self, cx: &ExecutionContext<'_>) -> Advance<Self, Value> {
        let definition = cx.workflow_definition();
        let Some(state) = definition
            .program
            .code::<Program>()
            .and_then(|program| program.state(self.state))
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
            execution_input: self.execution_input,
        };
        if state.query_language == crate::definition::QueryLanguage::Jsonata {
            return Advance::Failed(run.failure(&DataError::runtime(
                "JSONata states cannot run yet: only JSONPath is supported",
            )));
        }
        let raw = self.input;
        match &state.kind {
            StateKind::Pass(_) => run.pass(raw),
            StateKind::Choice(_) => run.choice(raw),
            StateKind::Wait(wait) => run.wait(wait, raw).await,
            StateKind::Succeed => run.succeed(raw),
            StateKind::Fail(fail) => run.fail(fail, raw),
            StateKind::Task(task) => {
                run.task(
                    &task.shaping,
                    task.timeout.as_ref(),
                    task.heartbeat.as_ref(),
                    raw,
                )
                .await
            }
            StateKind::Parallel(parallel) => run.parallel(parallel, raw).await,
            StateKind::Map(map) => run.map(map, raw).await,
        }
    }
}

impl Run<'_, '_> {
    /// The failure of this state for a data-flow error, worded as Step Functions words it.
    fn failure(&self, error: &DataError) -> ExecutionFailure {
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

    /// The context object of this state.
    fn context(&self, item: Option<(usize, &Value)>) -> Value {
        Facts {
            workflow: &self.cx.workflow_definition().name,
            execution: self.cx.execution_id().as_str(),
            execution_input: &self.execution_input,
            started_at: self.cx.execution_started_at(),
            state: &self.state.name,
            entered_at: self.cx.now(),
            retry_count: 0,
        }
        .object(item)
    }

    /// The machine in the next state with `input`, or the end with it as the output.
    fn go_on(self, input: Value) -> Advance<AslMachine, Value> {
        match &self.state.transition {
            Some(Transition::Next(next)) => self.go_to(next, input),
            _ => Advance::Succeeded(input),
        }
    }

    fn go_to(self, name: &str, input: Value) -> Advance<AslMachine, Value> {
        match self.cx.workflow_definition().state_by_name(name) {
            Some((state, _)) => Advance::Next(AslMachine {
                state,
                input,
                execution_input: self.execution_input,
            }),
            None => Advance::Failed(self.failure(&DataError::runtime(format!(
                "the next state '{name}' does not exist"
            )))),
        }
    }

    fn pass(self, raw: Value) -> Advance<AslMachine, Value> {
        let output = run_pass_computed(self.cx, self.id, &raw, || {
            let context = self.context(None);
            self.state
                .pass_output(raw.clone(), &context)
                .unwrap_or_else(|| Err(DataError::runtime("not a Pass state")))
                .map_err(|error| self.failure(&error))
        });
        match output {
            Ok(output) => self.go_on(output),
            Err(failure) => Advance::Failed(failure),
        }
    }

    fn choice(self, raw: Value) -> Advance<AslMachine, Value> {
        let StateKind::Choice(choice) = &self.state.kind else {
            return Advance::Failed(self.failure(&DataError::runtime("not a Choice state")));
        };
        let decided = enter_choice_computed(self.cx, self.id, &raw, || {
            let context = self.context(None);
            let effective = select(&self.state.input_path, raw.clone(), &context)
                .map_err(|error| self.failure(&error))?;
            let scope = Scope::new(&effective, &context);
            let mut rule = None;
            for (index, candidate) in choice.choices.iter().enumerate() {
                if candidate
                    .condition
                    .holds(&scope)
                    .map_err(|error| self.failure(&error))?
                {
                    rule = Some(index);
                    break;
                }
            }
            let output = select(&self.state.output_path, effective, &context)
                .map_err(|error| self.failure(&error))?;
            Ok((rule, output))
        });
        match decided {
            Ok((next, output)) => Advance::Next(AslMachine {
                state: next,
                input: output,
                execution_input: self.execution_input,
            }),
            Err(failure) => Advance::Failed(failure),
        }
    }

    async fn wait(self, wait: &Wait, raw: Value) -> Advance<AslMachine, Value> {
        let waited = run_wait_computed(self.cx, self.id, &raw, || {
            let context = self.context(None);
            let effective = select(&self.state.input_path, raw.clone(), &context)
                .map_err(|error| self.failure(&error))?;
            let wake = wake(wait, &effective, &context).map_err(|error| self.failure(&error))?;
            let output = select(&self.state.output_path, effective, &context)
                .map_err(|error| self.failure(&error))?;
            Ok((wake, output))
        })
        .await;
        match waited {
            Ok(output) => self.go_on(output),
            Err(failure) => Advance::Failed(failure),
        }
    }

    fn succeed(self, raw: Value) -> Advance<AslMachine, Value> {
        let context = self.context(None);
        let output = select(&self.state.input_path, raw, &context)
            .and_then(|effective| select(&self.state.output_path, effective, &context));
        match output {
            Ok(output) => enter_succeed(self.cx, self.id, output),
            Err(error) => Advance::Failed(self.failure(&error)),
        }
    }

    fn fail(self, fail: &Fail, raw: Value) -> Advance<AslMachine, Value> {
        enter_fail_computed(self.cx, self.id, &raw, || {
            let context = self.context(None);
            let text = |setting: Option<&Setting<String>>, field: &str| match setting {
                Some(Setting::Path(path)) => fail_text(path, field, &raw, &context)
                    .map(Some)
                    .map_err(|error| self.failure(&error)),
                _ => Ok(None),
            };
            Ok((
                text(fail.error.as_ref(), "ErrorPath")?,
                text(fail.cause.as_ref(), "CausePath")?,
            ))
        })
    }

    /// A state's result placed and selected: `ResultSelector`, `ResultPath`, `OutputPath`.
    fn finish(
        &self,
        shaping: &ResultShaping,
        raw: Value,
        result: Value,
    ) -> Result<Value, ExecutionFailure> {
        let context = self.context(None);
        let shaped = shape(shaping.result_selector.as_ref(), result, &context)
            .map_err(|error| self.failure(&error))?;
        let placed =
            place(&shaping.result_path, raw, shaped).map_err(|error| self.failure(&error))?;
        select(&self.state.output_path, placed, &context).map_err(|error| self.failure(&error))
    }

    /// The state's input after `InputPath` and `Parameters` (or a Map's `ItemSelector`
    /// aside): what its work takes.
    fn effective(&self, shaping: &ResultShaping, raw: &Value) -> Result<Value, ExecutionFailure> {
        let context = self.context(None);
        let selected = select(&self.state.input_path, raw.clone(), &context)
            .map_err(|error| self.failure(&error))?;
        shape(shaping.parameters.as_ref(), selected, &context).map_err(|error| self.failure(&error))
    }

    /// Where a catcher sends the execution, with the error placed in the state's raw input.
    fn caught(
        self,
        catchers: &[Catcher],
        index: usize,
        raw: Value,
        error: &str,
        cause: &str,
    ) -> Advance<AslMachine, Value> {
        let Some(catcher) = catchers.get(index) else {
            return Advance::Failed(self.failure(&DataError::runtime("no such catcher")));
        };
        let error_output = json!({"Error": error, "Cause": cause});
        let context = self.context(None);
        let output = place(&catcher.result_path, raw, error_output)
            .and_then(|placed| select(&self.state.output_path, placed, &context));
        match output {
            Ok(output) => {
                let next = catcher.next.clone();
                self.go_to(&next, output)
            }
            Err(error) => Advance::Failed(self.failure(&error)),
        }
    }

    async fn task(
        self,
        shaping: &ResultShaping,
        timeout: Option<&Setting<u64>>,
        heartbeat: Option<&Setting<u64>>,
        raw: Value,
    ) -> Advance<AslMachine, Value> {
        let outcome = run_task_computed::<AslTask, Value, Value>(
            self.cx,
            self.id,
            &raw,
            || {
                let context = self.context(None);
                let selected = select(&self.state.input_path, raw.clone(), &context)
                    .map_err(|error| self.failure(&error))?;
                let timers = ComputedTimers {
                    timeout: seconds(timeout, &selected, &context)
                        .map_err(|error| self.failure(&error))?,
                    heartbeat: seconds(heartbeat, &selected, &context)
                        .map_err(|error| self.failure(&error))?,
                };
                let input = shape(shaping.parameters.as_ref(), selected, &context)
                    .map_err(|error| self.failure(&error))?;
                Ok((timers, input))
            },
            Value::clone,
            |result| self.finish(shaping, raw.clone(), result),
        )
        .await;
        match outcome {
            TaskOutcome::Succeeded(output) => self.go_on(output),
            TaskOutcome::Caught(index, caught) => {
                self.caught(&shaping.catch, index, raw, &caught.error, &caught.cause)
            }
            TaskOutcome::Failed(failure) => Advance::Failed(failure),
        }
    }

    async fn parallel(self, parallel: &Parallel, raw: Value) -> Advance<AslMachine, Value> {
        let starts: Vec<StateId> = match self
            .cx
            .workflow_definition()
            .state(self.id)
            .map(|s| &s.kind)
        {
            Some(CoreKind::Parallel(core)) => {
                core.branches.iter().map(|branch| branch.start_at).collect()
            }
            _ => Vec::new(),
        };
        // Entered with its raw input; what its branches take is worked out once entered.
        let entered = Attempts::enter_as(self.cx, self.id, Some(&raw), Value::Null)
            .and_then(|attempts| Ok((self.effective(&parallel.shaping, &raw)?, attempts)));
        let (effective, mut attempts) = match entered {
            Ok(entered) => entered,
            Err(failure) => return Advance::Failed(failure),
        };
        loop {
            let result = match attempts.start(None) {
                Some(failure) => Err(failure),
                None => {
                    let lanes: Vec<_> = (0..starts.len())
                        .map(|index| attempts.branch(index))
                        .collect();
                    let branches = lanes.iter().zip(&starts).map(|(lane, start)| {
                        let input =
                            AslInput::branch(effective.clone(), *start, &self.execution_input);
                        run_branch::<AslMachine>(lane, input)
                    });
                    futures_util::future::try_join_all(branches)
                        .await
                        .map(Value::Array)
                }
            };
            match attempts.settle(result).await {
                Settled::Retry(again) => attempts = again,
                Settled::Succeeded(result) => {
                    return match self.finish(&parallel.shaping, raw, result) {
                        Ok(output) => self.go_on(output),
                        Err(failure) => Advance::Failed(failure),
                    }
                }
                Settled::Caught(index, caught) => {
                    return self.caught(
                        &parallel.shaping.catch,
                        index,
                        raw,
                        &caught.error,
                        &caught.cause,
                    )
                }
                Settled::Failed(failure) => return Advance::Failed(failure),
            }
        }
    }

    async fn map(self, map: &Map, raw: Value) -> Advance<AslMachine, Value> {
        // Entered with its raw input; its items and settings are worked out once entered.
        let entered = Attempts::enter_as(self.cx, self.id, Some(&raw), Value::Null)
            .and_then(|attempts| Ok((self.map_items(map, &raw)?, attempts)));
        let ((inputs, limits), mut attempts) = match entered {
            Ok(entered) => entered,
            Err(failure) => return Advance::Failed(failure),
        };
        let tolerant =
            map.tolerated_failure_count.is_some() || map.tolerated_failure_percentage.is_some();
        loop {
            let result = match attempts.start(Some(inputs.len())) {
                Some(failure) => Err(failure),
                None if tolerant => {
                    run_map_tolerant::<AslMachine, _>(
                        &attempts,
                        inputs.clone(),
                        limits,
                        AslInput::clone,
                    )
                    .await
                    .map(|results| {
                        // A tolerated failure is its error, in the place of its output.
                        Value::Array(
                            results
                                .into_iter()
                                .map(|result| match result {
                                    Ok(output) => output,
                                    Err(caught) => {
                                        json!({"Error": caught.error, "Cause": caught.cause})
                                    }
                                })
                                .collect(),
                        )
                    })
                }
                None => run_map::<AslMachine, _>(&attempts, inputs.clone(), limits)
                    .await
                    .map(Value::Array),
            };
            match attempts.settle(result).await {
                Settled::Retry(again) => attempts = again,
                Settled::Succeeded(result) => {
                    return match self.finish(&map.shaping, raw, result) {
                        Ok(output) => self.go_on(output),
                        Err(failure) => Advance::Failed(failure),
                    }
                }
                Settled::Caught(index, caught) => {
                    return self.caught(
                        &map.shaping.catch,
                        index,
                        raw,
                        &caught.error,
                        &caught.cause,
                    )
                }
                Settled::Failed(failure) => return Advance::Failed(failure),
            }
        }
    }

    /// A Map state's iterations' inputs (each item through `ItemSelector`, with
    /// `$$.Map.Item`) and the limits read from its input.
    fn map_items(
        &self,
        map: &Map,
        raw: &Value,
    ) -> Result<(Vec<AslInput>, ComputedMapLimits), ExecutionFailure> {
        let fail = |error: DataError| self.failure(&error);
        let context = self.context(None);
        let selected = select(&self.state.input_path, raw.clone(), &context).map_err(fail)?;
        let items = match &map.items_path {
            Some(path) => path
                .select(&Scope::new(&selected, &context))
                .map_err(fail)?,
            None => selected.clone(),
        };
        let Value::Array(items) = items else {
            return Err(fail(DataError::runtime(format!(
                "Map state input must be an array but was: {items}"
            ))));
        };
        let limits = ComputedMapLimits {
            max_concurrency: count(
                map.max_concurrency.as_ref(),
                "MaxConcurrencyPath",
                &selected,
                &context,
            )
            .map_err(fail)?,
            tolerated_count: count(
                map.tolerated_failure_count.as_ref(),
                "ToleratedFailureCountPath",
                &selected,
                &context,
            )
            .map_err(fail)?,
            tolerated_percentage: percentage(
                map.tolerated_failure_percentage.as_ref(),
                &selected,
                &context,
            )
            .map_err(fail)?,
        };
        let start = match self
            .cx
            .workflow_definition()
            .state(self.id)
            .map(|s| &s.kind)
        {
            Some(CoreKind::Map(core)) => core.iterator.start_at,
            _ => return Err(fail(DataError::runtime("not a Map state"))),
        };
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let value = match &map.shaping.parameters {
                Some(selector) => {
                    let context = self.context(Some((index, item)));
                    selector
                        .evaluate(&Scope::new(&selected, &context))
                        .map_err(fail)?
                }
                None => item.clone(),
            };
            inputs.push(AslInput::branch(value, start, &self.execution_input));
        }
        Ok((inputs, limits))
    }
}

/// When a Wait state wakes.
fn wake(wait: &Wait, input: &Value, context: &Value) -> Result<Wake, DataError> {
    match wait {
        Wait::Seconds(Setting::Fixed(seconds)) => Ok(Wake::After(Duration::from_secs(*seconds))),
        Wait::Seconds(Setting::Path(path)) => {
            let seconds = path
                .find(&Scope::new(input, context))
                .and_then(|value| value.as_u64())
                .ok_or_else(|| {
                    DataError::runtime(format!(
                        "The SecondsPath parameter does not reference an input value: {path}"
                    ))
                })?;
            Ok(Wake::After(Duration::from_secs(seconds)))
        }
        Wait::Timestamp(Setting::Fixed(text)) => crate::timestamp::parse_system_time(text)
            .map(Wake::At)
            .ok_or_else(|| {
                DataError::runtime(format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"
                ))
            }),
        Wait::Timestamp(Setting::Path(path)) => {
            let value = path.find(&Scope::new(input, context)).ok_or_else(|| {
                DataError::runtime(format!(
                    "The TimestampPath parameter does not reference an input value: {path}"
                ))
            })?;
            let text = value.as_str().unwrap_or_default().to_owned();
            crate::timestamp::parse_system_time(&text)
                .map(Wake::At)
                .ok_or_else(|| {
                    DataError::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {path} == {text}"
                    ))
                })
        }
        Wait::Seconds(Setting::Expression(_)) | Wait::Timestamp(Setting::Expression(_)) => Err(
            DataError::runtime("JSONata expressions cannot be evaluated yet"),
        ),
    }
}

/// A Fail state's `ErrorPath` or `CausePath`: a string in the input.
fn fail_text(
    path: &JsonPath,
    field: &str,
    input: &Value,
    context: &Value,
) -> Result<String, DataError> {
    match path.find(&Scope::new(input, context)) {
        Some(value) => match value.as_str() {
            Some(text) => Ok(text.to_owned()),
            None => Err(DataError::runtime(format!(
                "The JSONPath '{path}' specified for the field '{field}' returned a value that is not a string: {value}"
            ))),
        },
        None => Err(DataError::runtime(format!(
            // Step Functions names the input so, not by its text.
            "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '<json-input:1>'"
        ))),
    }
}

/// A duration setting read from the input, if it is one.
fn seconds(
    setting: Option<&Setting<u64>>,
    input: &Value,
    context: &Value,
) -> Result<Option<Duration>, DataError> {
    match setting {
        Some(Setting::Path(path)) => {
            let value = path.select(&Scope::new(input, context))?;
            let seconds = value.as_u64().filter(|seconds| *seconds > 0).ok_or_else(|| {
                DataError::runtime(format!("The value of {path} must be a positive whole number of seconds, not {value}"))
            })?;
            Ok(Some(Duration::from_secs(seconds)))
        }
        _ => Ok(None),
    }
}

/// A count setting read from the input (`field` names it), if it is one.
fn count(
    setting: Option<&Setting<u64>>,
    field: &str,
    input: &Value,
    context: &Value,
) -> Result<Option<u32>, DataError> {
    match setting {
        Some(Setting::Path(path)) => {
            let value = path.select(&Scope::new(input, context))?;
            value
                .as_u64()
                .and_then(|count| u32::try_from(count).ok())
                .map(Some)
                .ok_or_else(|| {
                    DataError::runtime(format!(
                        "The {field} field refers to value \"{}\" which is not a valid integer: {path}",
                        text_of(&value)
                    ))
                })
        }
        _ => Ok(None),
    }
}

fn percentage(
    setting: Option<&Setting<f64>>,
    input: &Value,
    context: &Value,
) -> Result<Option<f64>, DataError> {
    match setting {
        Some(Setting::Path(path)) => {
            let value = path.select(&Scope::new(input, context))?;
            let percentage = value.as_f64().ok_or_else(|| {
                DataError::runtime(format!(
                    "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {path}",
                    text_of(&value)
                ))
            })?;
            if !(0.0..=100.0).contains(&percentage) {
                return Err(DataError::runtime(
                    "ToleratedFailurePercentage must be between 0 and 100.",
                ));
            }
            Ok(Some(percentage))
        }
        _ => Ok(None),
    }
}

/// A value as Step Functions quotes it in messages: a string's text, any other value's JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
