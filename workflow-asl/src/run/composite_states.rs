//! Parallel and Map states: branches and iterations run by the same machine, in the engine's
//! attempts (retriers, catchers, tolerated failures), entered with the raw input and their
//! branches' inputs, items and settings worked out once entered.

use serde_json::{json, Value};
use workflow_core::definition::{StateId, StateKind as CoreKind};
use workflow_runtime::__private_v0_1::{
    run_branch, run_map, run_map_tolerant, Advance, Attempts, Caught, ComputedMapLimits, Settled,
};
use workflow_runtime::ExecutionFailure;

use super::machine::{AslInput, AslMachine, Run};
use crate::definition::{Map, Parallel, Setting};
use crate::error::DataError;
use crate::flow::select;
use crate::path::Scope;

impl Run<'_, '_> {
    pub(super) async fn parallel(
        self,
        parallel: &Parallel,
        raw: Value,
    ) -> Advance<AslMachine, Value> {
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
                        let input = AslInput::branch(effective.clone(), *start, &self);
                        run_branch::<AslMachine>(lane, input)
                    });
                    futures_util::future::try_join_all(branches)
                        .await
                        .map(Value::Array)
                }
            };
            let (mut assigned, mut caught_assigned) = (None, None);
            let settled = attempts
                .settle_with(
                    result,
                    |result| {
                        let (output, variables) =
                            self.finish(&parallel.shaping, raw.clone(), result)?;
                        assigned = variables;
                        Ok(output)
                    },
                    |index, caught: Caught<Value>| {
                        let (output, variables) = self.catch_output(
                            &parallel.shaping.catch,
                            index,
                            raw.clone(),
                            &caught.error,
                            &caught.cause,
                        )?;
                        caught_assigned = variables;
                        Ok(output)
                    },
                )
                .await;
            match settled {
                Settled::Retry(again) => attempts = again,
                Settled::Succeeded(output) => return self.with_assigned(assigned).go_on(output),
                Settled::Caught(index, output) => {
                    return self.go_caught(&parallel.shaping.catch, index, output, caught_assigned)
                }
                Settled::Failed(failure) => return Advance::Failed(failure),
            }
        }
    }

    pub(super) async fn map(self, map: &Map, raw: Value) -> Advance<AslMachine, Value> {
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
            let (mut assigned, mut caught_assigned) = (None, None);
            let settled = attempts
                .settle_with(
                    result,
                    |result| {
                        let (output, variables) = self.finish(&map.shaping, raw.clone(), result)?;
                        assigned = variables;
                        Ok(output)
                    },
                    |index, caught: Caught<Value>| {
                        let (output, variables) = self.catch_output(
                            &map.shaping.catch,
                            index,
                            raw.clone(),
                            &caught.error,
                            &caught.cause,
                        )?;
                        caught_assigned = variables;
                        Ok(output)
                    },
                )
                .await;
            match settled {
                Settled::Retry(again) => attempts = again,
                Settled::Succeeded(output) => return self.with_assigned(assigned).go_on(output),
                Settled::Caught(index, output) => {
                    return self.go_caught(&map.shaping.catch, index, output, caught_assigned)
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
        let around = self.around(&context);
        let selected = select(&self.state.input_path, raw.clone(), &around).map_err(fail)?;
        let items = match &map.items_path {
            Some(path) => path
                .select(&Scope {
                    input: &selected,
                    ..around
                })
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
                &around,
            )
            .map_err(fail)?,
            tolerated_count: count(
                map.tolerated_failure_count.as_ref(),
                "ToleratedFailureCountPath",
                &selected,
                &around,
            )
            .map_err(fail)?,
            tolerated_percentage: percentage(
                map.tolerated_failure_percentage.as_ref(),
                &selected,
                &around,
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
                    let around = self.around(&context);
                    selector
                        .evaluate(&Scope {
                            input: &selected,
                            ..around
                        })
                        .map_err(fail)?
                }
                None => item.clone(),
            };
            inputs.push(AslInput::branch(value, start, self));
        }
        Ok((inputs, limits))
    }
}

/// A count setting read from the input (`field` names it), if it is one.
fn count(
    setting: Option<&Setting<u64>>,
    field: &str,
    input: &Value,
    around: &Scope<'_>,
) -> Result<Option<u32>, DataError> {
    match setting {
        Some(Setting::Path(path)) => {
            let value = path.select(&Scope { input, ..*around })?;
            // A number, or a string holding one (as a variable assigned "1" does).
            value
                .as_u64()
                .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
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
    around: &Scope<'_>,
) -> Result<Option<f64>, DataError> {
    match setting {
        Some(Setting::Path(path)) => {
            let value = path.select(&Scope { input, ..*around })?;
            let percentage = value
                .as_f64()
                .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
                .ok_or_else(|| {
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
