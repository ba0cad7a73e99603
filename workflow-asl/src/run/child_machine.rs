//! `startExecution.sync` tasks that no handler answers: the state machine they name, a
//! workflow registered on the same runtime (an ASL machine or a `workflow!` workflow), runs
//! as a child execution with its own history (`Execution::children`), and the task ends as
//! Step Functions' integration ends it: with the child's description, or with
//! `States.TaskFailed` and that description as the cause.

use std::time::SystemTime;

use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use workflow_runtime::__private_v0_1::{
    ArgumentError, ChildEnd, StepArg, StepEnv, WorkflowDefinitions,
};
use workflow_runtime::Res;

use super::handlers::TaskError;
use super::program::Program;

/// The resource of Step Functions' nested executions, before its `.sync` or `.sync:2`.
const START_EXECUTION: &str = "arn:aws:states:::states:startExecution.sync";

/// The child execution `request` (`StateMachineArn`, `Input`, `Name`) asks `resource` for,
/// started, if `resource` starts executions and names a workflow registered on the runtime.
pub(super) fn start_child(
    env: &StepEnv<'_>,
    resource: &str,
    request: &Value,
) -> Option<Result<BoxFuture<'static, Result<Value, TaskError>>, ArgumentError>> {
    let version = resource.strip_prefix(START_EXECUTION)?;
    let arn = request["StateMachineArn"].as_str()?.to_owned();
    // `arn:aws:states:<region>:<account>:stateMachine:<name>[:<version or alias>]`.
    let name = arn.split(":stateMachine:").nth(1)?.split(':').next()?;
    let definitions = match Res::<WorkflowDefinitions>::extract(env) {
        Ok(definitions) => definitions,
        Err(error) => return Some(Err(error)),
    };
    let account = env
        .workflow_definition()
        .program
        .code::<Program>()
        .map(|program| program.account.clone())
        .unwrap_or_default();
    // The first version of the integration gives the input and output as JSON text.
    let as_text = version != ":2";
    let input = match &request["Input"] {
        Value::Null => json!({}),
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::String(text.clone())),
        input => input.clone(),
    };
    let given_name = request["Name"].as_str().map(str::to_owned);
    let child = match definitions.start_child(env, name, input.clone())? {
        Ok(child) => Ok(child),
        // An input the workflow does not take fails the task, as a start AWS refuses does.
        Err(error) => Err(TaskError::new("States.TaskFailed", error.to_string())),
    };
    let workflow = name.to_owned();
    Some(Ok(Box::pin(async move {
        let ChildEnd {
            id,
            started_at,
            stopped_at,
            result,
        } = child?.await;
        let shown = |value: Value| match as_text {
            true => Value::String(value.to_string()),
            false => value,
        };
        let mut described = json!({
            "ExecutionArn": account.execution_arn(&workflow, id.as_str()),
            "Input": shown(input),
            "InputDetails": {"Included": true},
            "Name": given_name.unwrap_or_else(|| id.as_str().to_owned()),
            "RedriveCount": 0,
            "StartDate": millis(started_at),
            "StateMachineArn": arn,
            "StopDate": millis(stopped_at),
        });
        match result {
            Ok(output) => {
                described["Output"] = shown(output);
                described["OutputDetails"] = json!({"Included": true});
                described["Status"] = json!("SUCCEEDED");
                Ok(described)
            }
            Err(failure) => {
                described["Error"] = json!(failure.error());
                described["Cause"] = json!(failure.cause());
                described["Status"] = json!(match failure.error() {
                    "States.Timeout" => "TIMED_OUT",
                    _ => "FAILED",
                });
                Err(TaskError::new("States.TaskFailed", described.to_string()))
            }
        }
    })))
}

/// Milliseconds since 1970, as Step Functions' API gives dates.
fn millis(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
