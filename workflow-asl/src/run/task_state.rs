//! Task states: the handler's call through the engine (retriers, catchers, timers), with the
//! data flow before it (`InputPath`, `Parameters`, timers from the input) and after it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use workflow_runtime::__private_v0_1::{
    run_task_computed, Advance, Caught, ComputedTimers, TaskEnd,
};

use workflow_runtime::ExecutionFailure;

use super::callback_input;
use super::machine::{AslMachine, Run};
use super::task_steps::{AslCallbackTask, AslTask};
use crate::definition::{QueryLanguage, ResultShaping, Setting};
use crate::error::DataError;
use crate::flow::{select, shape};
use crate::path::Scope;

impl Run<'_, '_> {
    /// Runs a Task state; with `callback` (`.waitForTaskToken` and `.sync` resources), its
    /// call submits work and the task waits for that work's answer.
    pub(super) async fn task(
        self,
        shaping: &ResultShaping,
        timeout: Option<&Setting<u64>>,
        heartbeat: Option<&Setting<u64>>,
        raw: Value,
        callback: bool,
    ) -> Advance<AslMachine, Value> {
        let mut assigned = None;
        let prepare = || match self.state.query_language {
            QueryLanguage::JsonPath => self.task_input(shaping, timeout, heartbeat, &raw, callback),
            QueryLanguage::Jsonata => {
                self.task_input_jsonata(shaping, timeout, heartbeat, &raw, callback)
            }
        };
        // A retry works the step's input out again, with `$$.State.RetryCount` counting it.
        let again = |prepared: &Value, retries: u32| {
            if retries == 0 {
                return Ok(prepared.clone());
            }
            self.retries.store(retries, Ordering::Relaxed);
            prepare().map(|(_, input)| input)
        };
        let mut caught_assigned = None;
        let finish = |result| {
            let (output, variables) = self.finish_any(shaping, &raw, result)?;
            assigned = variables;
            Ok(output)
        };
        // What the catcher hands on is what the state's exit records.
        let on_caught = |index, caught: Caught<Value>| {
            let (output, variables) =
                self.catch_any(&shaping.catch, index, &raw, &caught.error, &caught.cause)?;
            caught_assigned = variables;
            Ok(output)
        };
        let outcome = match callback {
            true => {
                run_task_computed::<AslCallbackTask, Value, Value, Value>(
                    self.cx, self.id, &raw, prepare, again, finish, on_caught,
                )
                .await
            }
            false => {
                run_task_computed::<AslTask, Value, Value, Value>(
                    self.cx, self.id, &raw, prepare, again, finish, on_caught,
                )
                .await
            }
        };
        match outcome {
            TaskEnd::Succeeded(output) => self.with_assigned(assigned).go_on(output),
            TaskEnd::Caught(index, output) => {
                self.go_caught(&shaping.catch, index, output, caught_assigned)
            }
            TaskEnd::Failed(failure) => Advance::Failed(failure),
        }
    }
}

impl Run<'_, '_> {
    /// A JSONPath task's timers read from its input and its step's input (`InputPath`,
    /// `Parameters`; for a callback task, what its step works `Parameters` out from).
    fn task_input(
        &self,
        shaping: &ResultShaping,
        timeout: Option<&Setting<u64>>,
        heartbeat: Option<&Setting<u64>>,
        raw: &Value,
        callback: bool,
    ) -> Result<(ComputedTimers, Value), ExecutionFailure> {
        let fail = |error: DataError| self.failure(&error);
        let context = self.context(None);
        let around = self.around(&context);
        let selected = select(&self.state.input_path, raw.clone(), &around).map_err(fail)?;
        let timers = ComputedTimers {
            timeout: seconds(timeout, &selected, &around).map_err(fail)?,
            heartbeat: seconds(heartbeat, &selected, &around).map_err(fail)?,
        };
        let input = match callback {
            // Its template is worked out with the attempt's token, by its step.
            true => callback_input::jsonpath(selected, context.clone(), &self.variables),
            false => shape(shaping.parameters.as_ref(), selected, &around).map_err(fail)?,
        };
        Ok((timers, input))
    }
}

/// A duration setting read from the input, if it is one.
fn seconds(
    setting: Option<&Setting<u64>>,
    input: &Value,
    around: &Scope<'_>,
) -> Result<Option<Duration>, DataError> {
    match setting {
        Some(Setting::Path(path)) => {
            let value = path.select(&Scope { input, ..*around })?;
            let seconds = value.as_u64().filter(|seconds| *seconds > 0).ok_or_else(|| {
                DataError::runtime(format!("The value of {path} must be a positive whole number of seconds, not {value}"))
            })?;
            Ok(Some(Duration::from_secs(seconds)))
        }
        _ => Ok(None),
    }
}
