//! States written in JSONata: `Arguments` instead of `InputPath` and `Parameters`, `Output`
//! instead of `ResultSelector`, `ResultPath` and `OutputPath`, `Condition` in Choice rules,
//! `Items` in Map states, and `{% … %}` settings, all reading `$states` (the input, the
//! result, the error output, the context object) and the variables.

use std::time::Duration;

use serde_json::{json, Value};
use workflow_core::definition::{StateId, StateKind as CoreKind};
use workflow_runtime::__private_v0_1::{
    enter_choice_computed, enter_fail_computed, enter_succeed, record_evaluation_failed,
    run_pass_computed, run_wait_computed, Advance, Attempts, ComputedMapLimits, ComputedTimers,
    Settled, Wake,
};
use workflow_runtime::ExecutionFailure;

use super::callback_input;
use super::composite_states::Work;
use super::machine::{AslInput, AslMachine, Run, Variables};
use crate::definition::{
    Catcher, Condition, Map, Parallel, ResultShaping, Setting, StateKind, Wait,
};
use crate::error::DataError;
use crate::jsonata::{evaluate_template, Bindings, QUERY_EVALUATION_ERROR};
use crate::template::Template;

impl Run<'_, '_> {
    /// `$states` for this state: its input, and its result or error output where given.
    pub(super) fn states(
        &self,
        input: &Value,
        result: Option<&Value>,
        error: Option<&Value>,
    ) -> Value {
        let mut states = json!({"input": input, "context": self.context(None)});
        if let Some(result) = result {
            states["result"] = result.clone();
        }
        if let Some(error) = error {
            states["errorOutput"] = error.clone();
        }
        states
    }

    pub(super) fn bindings<'v>(&'v self, states: &'v Value) -> Bindings<'v> {
        Bindings {
            states,
            variables: Some(&self.variables),
        }
    }

    /// A field of `{% %}` expressions (`Output`, `Arguments`), or `default` without it.
    pub(super) fn evaluated(
        &self,
        field: Option<&Value>,
        name: &str,
        default: &Value,
        states: &Value,
    ) -> Result<Value, ExecutionFailure> {
        match field {
            Some(field) => evaluate_template(field, name, &self.bindings(states))
                .map_err(|error| self.failure(&error)),
            None => Ok(default.clone()),
        }
    }

    /// What an `Assign` of expressions sets.
    fn assigned_jsonata(
        &self,
        assign: Option<&Template>,
        states: &Value,
    ) -> Result<Option<Variables>, ExecutionFailure> {
        let Some(assign) = assign.and_then(Template::literal) else {
            return Ok(None);
        };
        match evaluate_template(assign, "Assign", &self.bindings(states))
            .map_err(|error| self.failure(&error))?
        {
            Value::Object(variables) => Ok(Some(variables)),
            other => Err(self.failure(&DataError::runtime(format!(
                "Assign must give an object of variables, not {other}"
            )))),
        }
    }

    /// A number setting written as an expression, or as a number.
    fn number_setting(
        &self,
        setting: Option<&Setting<u64>>,
        states: &Value,
    ) -> Result<Option<u64>, ExecutionFailure> {
        match setting {
            Some(Setting::Fixed(n)) => Ok(Some(*n)),
            Some(Setting::Expression(text)) => {
                let value = self.expression(text, states)?;
                value.as_u64().map(Some).ok_or_else(|| {
                    self.failure(&query_error(format!(
                        "The JSONata expression '{text}' returned an unexpected result type. Expected 'integer', but was {value}"
                    )))
                })
            }
            _ => Ok(None),
        }
    }

    /// The value of the expression `text` (`{% … %}`); nothing is an error.
    fn expression(&self, text: &str, states: &Value) -> Result<Value, ExecutionFailure> {
        evaluate_template(&Value::String(text.to_owned()), "", &self.bindings(states))
            .map_err(|error| self.failure(&error))
    }

    pub(super) fn pass_jsonata(self, raw: Value) -> Advance<AslMachine, Value> {
        let mut assigned = None;
        let output = run_pass_computed(self.cx, self.id, &raw, || {
            let states = self.states(&raw, None, None);
            assigned = self.assigned_jsonata(self.state.assign.as_ref(), &states)?;
            self.evaluated(self.state.output.as_ref(), "Output", &raw, &states)
        });
        match output {
            Ok(output) => self.with_assigned(assigned).go_on(output),
            Err(failure) => Advance::Failed(failure),
        }
    }

    pub(super) fn succeed_jsonata(self, raw: Value) -> Advance<AslMachine, Value> {
        let states = self.states(&raw, None, None);
        match self.evaluated(self.state.output.as_ref(), "Output", &raw, &states) {
            Ok(output) => enter_succeed(self.cx, self.id, output),
            Err(failure) => Advance::Failed(failure),
        }
    }

    pub(super) fn fail_jsonata(
        self,
        error: Option<&Setting<String>>,
        cause: Option<&Setting<String>>,
        raw: Value,
    ) -> Advance<AslMachine, Value> {
        enter_fail_computed(self.cx, self.id, &raw, || {
            let states = self.states(&raw, None, None);
            let text = |setting: Option<&Setting<String>>| match setting {
                Some(Setting::Expression(text)) => {
                    self.expression(text, &states).map(|value| match value {
                        Value::String(text) => Some(text),
                        other => Some(other.to_string()),
                    })
                }
                _ => Ok(None),
            };
            Ok((text(error)?, text(cause)?))
        })
    }

    pub(super) fn choice_jsonata(self, raw: Value) -> Advance<AslMachine, Value> {
        let StateKind::Choice(choice) = &self.state.kind else {
            return Advance::Failed(self.failure(&DataError::runtime("not a Choice state")));
        };
        let mut assigned = None;
        let decided = enter_choice_computed(self.cx, self.id, &raw, || {
            let states = self.states(&raw, None, None);
            let mut taken = None;
            for (index, rule) in choice.choices.iter().enumerate() {
                let Condition::Expression(text) = &rule.condition else {
                    continue;
                };
                match self.expression(text, &states)? {
                    Value::Bool(true) => {
                        taken = Some(index);
                        break;
                    }
                    Value::Bool(false) => {}
                    other => {
                        return Err(self.failure(&query_error(format!(
                            "The JSONata expression '{text}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was {other}"
                        ))))
                    }
                }
            }
            // The rule taken shapes the output and assigns, or the state itself by default.
            let (output, assign) = match taken.and_then(|index| choice.choices.get(index)) {
                Some(rule) => (rule.output.as_ref(), rule.assign.as_ref()),
                None => (self.state.output.as_ref(), self.state.assign.as_ref()),
            };
            assigned = self.assigned_jsonata(assign, &states)?;
            Ok((taken, self.evaluated(output, "Output", &raw, &states)?))
        });
        match decided {
            Ok((next, output)) => {
                let run = self.with_assigned(assigned);
                Advance::Next(AslMachine {
                    state: next,
                    input: output,
                    execution_input: run.execution_input,
                    variables: run.variables,
                })
            }
            Err(failure) => Advance::Failed(failure),
        }
    }

    pub(super) async fn wait_jsonata(self, wait: &Wait, raw: Value) -> Advance<AslMachine, Value> {
        let mut assigned = None;
        let waited = run_wait_computed(self.cx, self.id, &raw, || {
            let states = self.states(&raw, None, None);
            let wake = match wait {
                Wait::Seconds(setting) => Wake::After(Duration::from_secs(
                    self.number_setting(Some(setting), &states)?.unwrap_or(0),
                )),
                Wait::Timestamp(Setting::Fixed(text)) => {
                    timestamp(text).map_err(|e| self.failure(&e))?
                }
                Wait::Timestamp(Setting::Expression(text)) => {
                    let value = self.expression(text, &states)?;
                    timestamp(value.as_str().unwrap_or_default()).map_err(|e| self.failure(&e))?
                }
                Wait::Timestamp(Setting::Path(_)) => Wake::After(Duration::ZERO),
            };
            assigned = self.assigned_jsonata(self.state.assign.as_ref(), &states)?;
            Ok((
                wake,
                self.evaluated(self.state.output.as_ref(), "Output", &raw, &states)?,
            ))
        })
        .await;
        match waited {
            Ok(output) => self.with_assigned(assigned).go_on(output),
            Err(failure) => Advance::Failed(failure),
        }
    }

    /// A result's output and assignments (`$states.result`).
    pub(super) fn finish_jsonata(
        &self,
        raw: &Value,
        result: Value,
    ) -> Result<(Value, Option<Variables>), ExecutionFailure> {
        let states = self.states(raw, Some(&result), None);
        let assigned = self.assigned_jsonata(self.state.assign.as_ref(), &states)?;
        let output = self.evaluated(self.state.output.as_ref(), "Output", &result, &states)?;
        Ok((output, assigned))
    }

    /// What catcher `index` hands on of a failure (its `Output`, by default the error
    /// output), and the variables it assigns.
    pub(super) fn catch_output_jsonata(
        &self,
        catchers: &[Catcher],
        index: usize,
        raw: &Value,
        error: &str,
        cause: &str,
    ) -> Result<(Value, Option<Variables>), ExecutionFailure> {
        let Some(catcher) = catchers.get(index) else {
            return Err(self.failure(&DataError::runtime("no such catcher")));
        };
        let error_output = json!({"Error": error, "Cause": cause});
        let states = self.states(raw, None, Some(&error_output));
        let assigned = self.assigned_jsonata(catcher.assign.as_ref(), &states)?;
        let output = self.evaluated(catcher.output.as_ref(), "Output", &error_output, &states)?;
        Ok((output, assigned))
    }

    /// A JSONata task's timers and its step's input (`Arguments`; for a callback task, what
    /// its step works `Arguments` out from).
    pub(super) fn task_input_jsonata(
        &self,
        shaping: &ResultShaping,
        timeout: Option<&Setting<u64>>,
        heartbeat: Option<&Setting<u64>>,
        raw: &Value,
        callback: bool,
    ) -> Result<(ComputedTimers, Value), ExecutionFailure> {
        fn expressed(setting: Option<&Setting<u64>>) -> Option<&Setting<u64>> {
            setting.filter(|setting| matches!(setting, Setting::Expression(_)))
        }
        let states = self.states(raw, None, None);
        let timers = ComputedTimers {
            timeout: self
                .number_setting(expressed(timeout), &states)?
                .map(Duration::from_secs),
            heartbeat: self
                .number_setting(expressed(heartbeat), &states)?
                .map(Duration::from_secs),
        };
        let input = match callback {
            // Its Arguments are worked out with the attempt's token, by its step.
            true => callback_input::jsonata(states, &self.variables),
            false => self.evaluated(shaping.arguments.as_ref(), "Arguments", raw, &states)?,
        };
        Ok((timers, input))
    }

    pub(super) async fn parallel_jsonata(
        self,
        parallel: &Parallel,
        raw: Value,
    ) -> Advance<AslMachine, Value> {
        let starts = self.branch_starts();
        let attempts = match Attempts::enter_as(self.cx, self.id, Some(&raw), Value::Null) {
            Ok(attempts) => attempts,
            Err(failure) => return Advance::Failed(failure),
        };
        let states = self.states(&raw, None, None);
        let arguments = match self.evaluated(
            parallel.shaping.arguments.as_ref(),
            "Arguments",
            &raw,
            &states,
        ) {
            Ok(arguments) => arguments,
            Err(failure) => return self.failed_entered(attempts, failure).await,
        };
        let work = Work::Branches {
            starts: &starts,
            input: &arguments,
        };
        self.run_composite(attempts, &work, &parallel.shaping, raw)
            .await
    }

    pub(super) async fn map_jsonata(self, map: &Map, raw: Value) -> Advance<AslMachine, Value> {
        let attempts = match Attempts::enter_as(self.cx, self.id, Some(&raw), Value::Null) {
            Ok(attempts) => attempts,
            Err(failure) => return Advance::Failed(failure),
        };
        let prepared = self
            .map_items_jsonata(map, &raw)
            .and_then(|(inputs, limits, start)| {
                Ok((inputs, limits, self.item_source(map, &raw, start)?))
            });
        let (inputs, limits, source) = match prepared {
            Ok(prepared) => prepared,
            Err(failure) => return self.failed_entered(attempts, failure).await,
        };
        let work = Work::Items {
            inputs: &inputs,
            source: source.as_ref(),
            limits: Ok(limits),
            tolerant: map.tolerated_failure_count.is_some()
                || map.tolerated_failure_percentage.is_some(),
        };
        self.run_composite(attempts, &work, &map.shaping, raw).await
    }

    /// A Parallel or Map state that failed to work out its branches once entered: the
    /// failed expression, then the state's failure (`ParallelStateFailed`,
    /// `MapStateFailed`), as Step Functions records them.
    async fn failed_entered(
        &self,
        attempts: Attempts<'_, '_, Value>,
        failure: ExecutionFailure,
    ) -> Advance<AslMachine, Value> {
        if failure.error() == QUERY_EVALUATION_ERROR {
            record_evaluation_failed(self.cx, self.id, &failure);
        }
        match attempts.settle::<Value>(Err(failure)).await {
            Settled::Failed(failure) => Advance::Failed(failure),
            // Not retried or caught: the expression would fail again the same way.
            Settled::Retry(_) | Settled::Caught(..) | Settled::Succeeded(_) => {
                Advance::Failed(self.failure(&query_error(
                    "the state's data could not be worked out".to_owned(),
                )))
            }
        }
    }

    /// A JSONata Map state's iterations: `Items` (by default the input, which must be a list),
    /// each through `ItemSelector` with `$states.context.Map.Item`.
    fn map_items_jsonata(
        &self,
        map: &Map,
        raw: &Value,
    ) -> Result<(Vec<AslInput>, ComputedMapLimits, StateId), ExecutionFailure> {
        let states = self.states(raw, None, None);
        let items = match &map.items {
            // Read by the map run.
            _ if map.distributed_fields.contains_key("ItemReader") => Value::Array(Vec::new()),
            Some(items) => evaluate_template(items, "Items", &self.bindings(&states))
                .map_err(|error| self.failure(&error))?,
            None => raw.clone(),
        };
        let items = match items {
            Value::Array(items) => items,
            other => {
                let why = match &map.items {
                    Some(Value::String(text)) => format!(
                        "The JSONata expression '{}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {other}",
                        text.trim().trim_start_matches("{%").trim_end_matches("%}").trim(),
                        type_name(&other)
                    ),
                    _ => format!("Map state input must be an array but was: {other}"),
                };
                return Err(self.failure(&query_error(why)));
            }
        };
        let limits = ComputedMapLimits {
            max_concurrency: self
                .number_setting(
                    map.max_concurrency
                        .as_ref()
                        .filter(|s| matches!(s, Setting::Expression(_))),
                    &states,
                )?
                .and_then(|n| u32::try_from(n).ok()),
            tolerated_count: self
                .number_setting(
                    map.tolerated_failure_count
                        .as_ref()
                        .filter(|s| matches!(s, Setting::Expression(_))),
                    &states,
                )?
                .and_then(|n| u32::try_from(n).ok()),
            tolerated_percentage: match &map.tolerated_failure_percentage {
                Some(Setting::Expression(text)) => Some(
                    self.expression(text, &states)?
                        .as_f64()
                        .filter(|p| (0.0..=100.0).contains(p))
                        .ok_or_else(|| {
                            self.failure(&query_error(
                                "ToleratedFailurePercentage must be between 0 and 100.".to_owned(),
                            ))
                        })?,
                ),
                _ => None,
            },
        };
        let start = match self
            .cx
            .workflow_definition()
            .state(self.id)
            .map(|s| &s.kind)
        {
            Some(CoreKind::Map(core)) => core.iterator.start_at,
            _ => return Err(self.failure(&DataError::runtime("not a Map state"))),
        };
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let value = self.select_item(map, raw, index, item)?;
            inputs.push(AslInput::branch(value, start, self));
        }
        Ok((inputs, limits, start))
    }

    /// A JSONata Map state's item `index` through its `ItemSelector`, with
    /// `$states.context.Map.Item`.
    pub(super) fn select_item_jsonata(
        &self,
        map: &Map,
        raw: &Value,
        index: usize,
        item: &Value,
    ) -> Result<Value, ExecutionFailure> {
        match map.shaping.parameters.as_ref().and_then(Template::literal) {
            Some(selector) => {
                let mut states = self.states(raw, None, None);
                states["context"] = self.context(Some((index, item)));
                evaluate_template(selector, "ItemSelector", &self.bindings(&states))
                    .map_err(|error| self.failure(&error))
            }
            None => Ok(item.clone()),
        }
    }
}

fn query_error(cause: String) -> DataError {
    DataError {
        error: QUERY_EVALUATION_ERROR,
        cause,
    }
}

/// The JSON type name of a value, as Step Functions' messages name it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn timestamp(text: &str) -> Result<Wake, DataError> {
    crate::timestamp::parse_system_time(text).map(Wake::At).ok_or_else(|| {
        query_error(format!(
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"
        ))
    })
}
