//! The states that route and hold the data: Pass, Choice, Wait, Succeed and Fail.

use std::time::Duration;

use serde_json::Value;
use workflow_runtime::__private_v0_1::{
    enter_choice_computed, enter_fail_computed, enter_succeed, run_pass_computed,
    run_wait_computed, Advance, Wake,
};

use super::machine::{AslMachine, Run};
use crate::definition::{Fail, Setting, StateKind, Wait};
use crate::error::DataError;
use crate::flow::select;
use crate::path::{JsonPath, Scope};

impl Run<'_, '_> {
    pub(super) fn pass(self, raw: Value) -> Advance<AslMachine, Value> {
        let mut assigned = None;
        let output = run_pass_computed(self.cx, self.id, &raw, || {
            let context = self.context(None);
            let passed = self
                .state
                .pass_output(raw.clone(), &self.around(&context))
                .unwrap_or_else(|| Err(DataError::runtime("not a Pass state")))
                .map_err(|error| self.failure(&error))?;
            assigned = passed.assigned;
            Ok(passed.output)
        });
        match output {
            Ok(output) => self.with_assigned(assigned).go_on(output),
            Err(failure) => Advance::Failed(failure),
        }
    }

    pub(super) fn choice(self, raw: Value) -> Advance<AslMachine, Value> {
        let StateKind::Choice(choice) = &self.state.kind else {
            return Advance::Failed(self.failure(&DataError::runtime("not a Choice state")));
        };
        let mut assigned = None;
        let decided = enter_choice_computed(self.cx, self.id, &raw, || {
            let context = self.context(None);
            let around = self.around(&context);
            let effective = select(&self.state.input_path, raw.clone(), &around)
                .map_err(|error| self.failure(&error))?;
            let scope = Scope {
                input: &effective,
                ..around
            };
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
            // The rule taken assigns, or the state itself when it goes to its default.
            let assign = match rule {
                Some(index) => choice
                    .choices
                    .get(index)
                    .and_then(|rule| rule.assign.as_ref()),
                None => self.state.assign.as_ref(),
            };
            assigned = crate::flow::assigned(assign, &effective, &around)
                .map_err(|error| self.failure(&error))?;
            let output = select(&self.state.output_path, effective, &around)
                .map_err(|error| self.failure(&error))?;
            Ok((rule, output))
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

    pub(super) async fn wait(self, wait: &Wait, raw: Value) -> Advance<AslMachine, Value> {
        let mut assigned = None;
        let waited = run_wait_computed(self.cx, self.id, &raw, || {
            let fail = |error: DataError| self.failure(&error);
            let context = self.context(None);
            let around = self.around(&context);
            let effective = select(&self.state.input_path, raw.clone(), &around).map_err(fail)?;
            let wake = wake(wait, &effective, &around).map_err(fail)?;
            assigned = crate::flow::assigned(self.state.assign.as_ref(), &effective, &around)
                .map_err(fail)?;
            let output = select(&self.state.output_path, effective, &around).map_err(fail)?;
            Ok((wake, output))
        })
        .await;
        match waited {
            Ok(output) => self.with_assigned(assigned).go_on(output),
            Err(failure) => Advance::Failed(failure),
        }
    }

    pub(super) fn succeed(self, raw: Value) -> Advance<AslMachine, Value> {
        let context = self.context(None);
        let around = self.around(&context);
        let output = select(&self.state.input_path, raw, &around)
            .and_then(|effective| select(&self.state.output_path, effective, &around));
        match output {
            Ok(output) => enter_succeed(self.cx, self.id, output),
            Err(error) => Advance::Failed(self.failure(&error)),
        }
    }

    pub(super) fn fail(self, fail: &Fail, raw: Value) -> Advance<AslMachine, Value> {
        enter_fail_computed(self.cx, self.id, &raw, || {
            let context = self.context(None);
            let around = self.around(&context);
            let text = |setting: Option<&Setting<String>>, field: &str| match setting {
                Some(Setting::Path(path)) => fail_text(path, field, &raw, &around)
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
}

/// When a Wait state wakes.
fn wake(wait: &Wait, input: &Value, around: &Scope<'_>) -> Result<Wake, DataError> {
    let scope = Scope { input, ..*around };
    match wait {
        Wait::Seconds(Setting::Fixed(seconds)) => Ok(Wake::After(Duration::from_secs(*seconds))),
        Wait::Seconds(Setting::Path(path)) => {
            let seconds = path
                .find(&scope)
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
            let value = path.find(&scope).ok_or_else(|| {
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
    around: &Scope<'_>,
) -> Result<String, DataError> {
    match path.find(&Scope { input, ..*around }) {
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
