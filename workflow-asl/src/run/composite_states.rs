//! Parallel and Map states: branches and iterations run by the same machine, in the engine's
//! attempts (retriers, catchers, tolerated failures), entered with the raw input and their
//! branches' inputs, items and settings worked out once entered.

use serde_json::{json, Value};
use workflow_core::definition::{StateId, StateKind as CoreKind};
use workflow_runtime::__private_v0_1::{
    run_branch, run_map_reading, run_map_reading_tolerant, Advance, Attempts, Caught,
    ComputedMapLimits, Settled,
};
use workflow_runtime::ExecutionFailure;

use super::item_reader::ItemSource;
use super::machine::{AslInput, AslMachine, Run, Variables};

/// What each attempt of a Parallel or Map state runs.
pub(super) enum Work<'w> {
    /// Every branch, from its start, on the same input.
    Branches {
        starts: &'w [StateId],
        input: &'w Value,
    },
    /// Every item, at most `limits` at once; with `tolerant`, failed items up to the
    /// tolerated count or share give their error in their place.
    Items {
        inputs: &'w [AslInput],
        /// Where the items are read from once the map run starts, instead of `inputs`.
        source: Option<&'w ItemSource<'w>>,
        /// The limits read from the input: an error in them fails the state once started.
        limits: Result<ComputedMapLimits, ExecutionFailure>,
        tolerant: bool,
    },
}
use crate::definition::{Catcher, Map, Parallel, QueryLanguage, ResultShaping, Setting};
use crate::error::DataError;
use crate::flow::select;
use crate::path::Scope;

impl Run<'_, '_> {
    /// Runs a Parallel or Map state's attempts of `work` under its retriers and catchers until
    /// it ends: its exit records its output (or its catcher's), in its query language.
    pub(super) async fn run_composite(
        self,
        mut attempts: Attempts<'_, '_, Value>,
        work: &Work<'_>,
        shaping: &ResultShaping,
        raw: Value,
    ) -> Advance<AslMachine, Value> {
        loop {
            let length = match work {
                Work::Items { inputs, .. } => Some(inputs.len()),
                Work::Branches { .. } => None,
            };
            let result = match attempts.start(length) {
                Some(failure) => Err(failure),
                // Limits that cannot be read fail the execution once the state started,
                // as a runtime error: not the state's failure.
                None => match work {
                    Work::Items {
                        limits: Err(failure),
                        ..
                    } => return Advance::Failed(failure.clone()),
                    _ => self.run_work(&attempts, work).await,
                },
            };
            let (mut assigned, mut caught_assigned) = (None, None);
            let settled = attempts
                .settle_with(
                    result,
                    |result| {
                        let (output, variables) = self.finish_any(shaping, &raw, result)?;
                        assigned = variables;
                        Ok(output)
                    },
                    |index, caught: Caught<Value>| {
                        let (output, variables) = self.catch_any(
                            &shaping.catch,
                            index,
                            &raw,
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
                    return self.go_caught(&shaping.catch, index, output, caught_assigned)
                }
                Settled::Failed(failure) => return Advance::Failed(failure),
            }
        }
    }

    /// Where each branch of this Parallel state starts.
    pub(super) fn branch_starts(&self) -> Vec<StateId> {
        match self
            .cx
            .workflow_definition()
            .state(self.id)
            .map(|s| &s.kind)
        {
            Some(CoreKind::Parallel(core)) => {
                core.branches.iter().map(|branch| branch.start_at).collect()
            }
            _ => Vec::new(),
        }
    }

    /// One attempt of `work`: every branch on the same input, or every item.
    async fn run_work(
        &self,
        attempts: &Attempts<'_, '_, Value>,
        work: &Work<'_>,
    ) -> Result<Value, ExecutionFailure> {
        match work {
            &Work::Branches { starts, input } => {
                let lanes: Vec<_> = (0..starts.len())
                    .map(|index| attempts.branch(index))
                    .collect();
                let branches = lanes.iter().zip(starts).map(|(lane, start)| {
                    run_branch::<AslMachine>(lane, AslInput::branch(input.clone(), *start, self))
                });
                futures_util::future::try_join_all(branches)
                    .await
                    .map(Value::Array)
            }
            // `run_composite` fails the execution on these before any attempt runs.
            Work::Items {
                limits: Err(failure),
                ..
            } => Err(failure.clone()),
            Work::Items {
                inputs,
                source,
                limits: Ok(limits),
                tolerant,
            } => {
                let read = async {
                    match source {
                        Some(source) => self.read_items(source).await,
                        None => Ok(inputs.to_vec()),
                    }
                };
                if !tolerant {
                    return run_map_reading::<AslMachine, _>(attempts, read, *limits)
                        .await
                        .map(Value::Array);
                }
                let results = run_map_reading_tolerant::<AslMachine, _>(
                    attempts,
                    read,
                    *limits,
                    AslInput::clone,
                )
                .await?;
                // A tolerated failure is its error, in the place of its output.
                Ok(Value::Array(
                    results
                        .into_iter()
                        .map(|result| match result {
                            Ok(output) => output,
                            Err(caught) => json!({"Error": caught.error, "Cause": caught.cause}),
                        })
                        .collect(),
                ))
            }
        }
    }

    /// The state's output of its branches' results, in its query language.
    pub(super) fn finish_any(
        &self,
        shaping: &ResultShaping,
        raw: &Value,
        result: Value,
    ) -> Result<(Value, Option<Variables>), ExecutionFailure> {
        match self.state.query_language {
            QueryLanguage::JsonPath => self.finish(shaping, raw.clone(), result),
            QueryLanguage::Jsonata => self.finish_jsonata(raw, result),
        }
    }

    /// What catcher `index` hands on, in the state's query language.
    pub(super) fn catch_any(
        &self,
        catchers: &[Catcher],
        index: usize,
        raw: &Value,
        error: &str,
        cause: &str,
    ) -> Result<(Value, Option<Variables>), ExecutionFailure> {
        match self.state.query_language {
            QueryLanguage::JsonPath => {
                self.catch_output(catchers, index, raw.clone(), error, cause)
            }
            QueryLanguage::Jsonata => self.catch_output_jsonata(catchers, index, raw, error, cause),
        }
    }

    pub(super) async fn parallel(
        self,
        parallel: &Parallel,
        raw: Value,
    ) -> Advance<AslMachine, Value> {
        let starts = self.branch_starts();
        // Entered with its raw input; what its branches take is worked out once entered.
        let entered = Attempts::enter_as(self.cx, self.id, Some(&raw), Value::Null)
            .and_then(|attempts| Ok((self.effective(&parallel.shaping, &raw)?, attempts)));
        let (effective, attempts) = match entered {
            Ok(entered) => entered,
            Err(failure) => return Advance::Failed(failure),
        };
        let work = Work::Branches {
            starts: &starts,
            input: &effective,
        };
        self.run_composite(attempts, &work, &parallel.shaping, raw)
            .await
    }

    pub(super) async fn map(self, map: &Map, raw: Value) -> Advance<AslMachine, Value> {
        // Entered with its raw input; its items and settings are worked out once entered.
        let entered = Attempts::enter_as(self.cx, self.id, Some(&raw), Value::Null)
            .and_then(|attempts| Ok((self.map_items(map, &raw)?, attempts)));
        let ((inputs, limits, source), attempts) = match entered {
            Ok(entered) => entered,
            Err(failure) => return Advance::Failed(failure),
        };
        let work = Work::Items {
            inputs: &inputs,
            source: source.as_ref(),
            limits,
            tolerant: map.tolerated_failure_count.is_some()
                || map.tolerated_failure_percentage.is_some(),
        };
        self.run_composite(attempts, &work, &map.shaping, raw).await
    }

    /// A Map state's iterations' inputs (each item through `ItemSelector`, with
    /// `$$.Map.Item`), the limits read from its input, and its item reader, if it has one.
    #[allow(clippy::type_complexity)]
    fn map_items<'m>(
        &self,
        map: &'m Map,
        raw: &Value,
    ) -> Result<
        (
            Vec<AslInput>,
            Result<ComputedMapLimits, ExecutionFailure>,
            Option<ItemSource<'m>>,
        ),
        ExecutionFailure,
    > {
        let fail = |error: DataError| self.failure(&error);
        let context = self.context(None);
        let around = self.around(&context);
        let selected = select(&self.state.input_path, raw.clone(), &around).map_err(fail)?;
        let items = match &map.items_path {
            // Read by the map run (`ItemsPath` has nothing to select then).
            _ if map.distributed_fields.contains_key("ItemReader") => Value::Array(Vec::new()),
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
        let limits = (|| {
            Ok(ComputedMapLimits {
                max_concurrency: count(
                    map.max_concurrency.as_ref(),
                    "MaxConcurrencyPath",
                    &selected,
                    &around,
                )?,
                tolerated_count: count(
                    map.tolerated_failure_count.as_ref(),
                    "ToleratedFailureCountPath",
                    &selected,
                    &around,
                )?,
                tolerated_percentage: percentage(
                    map.tolerated_failure_percentage.as_ref(),
                    &selected,
                    &around,
                )?,
            })
        })()
        .map_err(fail);
        // An inline Map state fails before it starts; a distributed one starts its map run
        // first, as Step Functions records them.
        let limits = match map.distributed {
            true => limits,
            false => Ok(limits?),
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
            let value = self.select_item(map, &selected, index, item)?;
            inputs.push(AslInput::branch(value, start, self));
        }
        let source = self.item_source(map, &selected, start)?;
        Ok((inputs, limits, source))
    }

    /// Item `index` of Map state `map` through its `ItemSelector`, which reads the state's
    /// `input` (after `InputPath`) and `$$.Map.Item`, in the state's query language.
    pub(super) fn select_item(
        &self,
        map: &Map,
        input: &Value,
        index: usize,
        item: &Value,
    ) -> Result<Value, ExecutionFailure> {
        if self.state.query_language == QueryLanguage::Jsonata {
            return self.select_item_jsonata(map, input, index, item);
        }
        match &map.shaping.parameters {
            Some(selector) => {
                let context = self.context(Some((index, item)));
                let around = self.around(&context);
                selector
                    .evaluate(&Scope { input, ..around })
                    .map_err(|error| self.failure(&error))
            }
            None => Ok(item.clone()),
        }
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
