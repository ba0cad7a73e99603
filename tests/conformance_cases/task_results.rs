//! A task whose result then fails the state: over the payload limit, it is a failed attempt
//! (`TaskFailed` with `States.DataLimitExceeded`, matched by `States.ALL` as AWS matches it);
//! unrepresentable, the task's success is recorded, then the state fails with
//! `States.Runtime`.

use std::collections::HashMap;

use workflow::prelude::*;
use workflow::{EventType, History, VirtualClock};

/// A result of `size` bytes of text.
#[step]
async fn large(size: usize) -> String {
    "x".repeat(size)
}

#[step]
async fn handle_general_error(failed: Caught<usize>) -> String {
    failed.error
}

/// A map JSON cannot represent (its keys are not strings).
#[step]
async fn unrepresentable(_size: usize) -> HashMap<(u8, u8), u8> {
    [((1, 2), 3)].into_iter().collect()
}

workflow! {
    /// AWS's `TASK_SERVICE_LAMBDA_INVOKE_CATCH_DATA_LIMIT_EXCEEDED`, with the general
    /// catcher only.
    LargeResult: Standard<usize, String> {
        start InvokeLambda;
        InvokeLambda: task large -> end, catch States::ALL -> HandleGeneralError;
        HandleGeneralError: task handle_general_error -> end;
    }
}

workflow! {
    /// AWS's `TASK_SERVICE_LAMBDA_INVOKE_CATCH_DATA_LIMIT_EXCEEDED`: the catcher's target
    /// receives the error in Step Functions' shape, `{"Error", "Cause"}`.
    LargeResultAwsShape: Standard<usize, serde_json::Value> {
        start InvokeLambda;
        InvokeLambda: task large -> ProcessResult,
            catch States::DataLimitExceeded -> HandleDataLimitExceeded,
            catch States::ALL -> HandleGeneralError;
        HandleDataLimitExceeded: pass |error: CaughtError| -> serde_json::Value {
            serde_json::json!(error)
        } -> end;
        HandleGeneralError: pass |_error: CaughtError| -> serde_json::Value {
            serde_json::Value::Null
        } -> end;
        ProcessResult: pass |result: String| -> serde_json::Value { serde_json::json!(result) } -> end;
    }
}

workflow! {
    /// The same task without a catcher.
    LargeResultUncaught: Standard<usize, String> {
        start InvokeLambda;
        InvokeLambda: task large -> end;
    }
}

workflow! {
    /// A task whose result has no JSON form.
    Unrepresentable: Standard<usize, HashMap<(u8, u8), u8>> {
        start Make;
        Make: task unrepresentable -> end;
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .payload_limit(1024)
        .register::<LargeResult>()
        .register::<LargeResultUncaught>()
        .register::<LargeResultAwsShape>()
        .register::<Unrepresentable>()
        .build()
        .expect("builds")
}

fn task_events(history: &History) -> Vec<(EventType, Option<&str>)> {
    history
        .events()
        .iter()
        .map(|event| (event.kind, event.error.as_deref()))
        .collect()
}

/// AWS (`test_task_lambda_data_limit_exceeded_on_large_utf8_response`): `TaskStateEntered,
/// LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionFailed
/// (States.DataLimitExceeded), TaskStateExited`, then the catcher's target. Caught here by
/// `States.ALL`, as AWS catches it (see the README on where AWS's documentation differs).
#[tokio::test(start_paused = true)]
async fn a_result_over_the_limit_fails_the_attempt_and_states_all_catches_it() {
    let execution = runtime().execute::<LargeResult>(4096).await.expect("runs");
    assert_eq!(
        execution.output().map(String::as_str),
        Some("States.DataLimitExceeded")
    );
    use EventType::*;
    let limit = Some("States.DataLimitExceeded");
    assert_eq!(
        task_events(execution.history()),
        [
            (ExecutionStarted, None),
            (TaskStateEntered, None),
            (TaskScheduled, None),
            (TaskStarted, None),
            (TaskFailed, limit),
            (TaskStateExited, None),
            (TaskStateEntered, None),
            (TaskScheduled, None),
            (TaskStarted, None),
            (TaskSucceeded, None),
            (TaskStateExited, None),
            (ExecutionSucceeded, None),
        ]
    );
}

/// Without a catcher the attempt's failure is recorded too, then the execution fails.
#[tokio::test(start_paused = true)]
async fn a_result_over_the_limit_without_a_catcher_records_the_failed_attempt() {
    let execution = runtime()
        .execute::<LargeResultUncaught>(4096)
        .await
        .expect("runs");
    use EventType::*;
    let limit = Some("States.DataLimitExceeded");
    assert_eq!(
        task_events(execution.history()),
        [
            (ExecutionStarted, None),
            (TaskStateEntered, None),
            (TaskScheduled, None),
            (TaskStarted, None),
            (TaskFailed, limit),
            (ExecutionFailed, limit),
        ]
    );
}

/// AWS records a task's success, then the failure its result causes (an output path that does
/// not apply: `TaskSucceeded`, then `ExecutionFailed` with `States.Runtime`).
#[tokio::test(start_paused = true)]
async fn an_unrepresentable_result_records_the_success_then_fails_the_state() {
    let execution = runtime().execute::<Unrepresentable>(1).await.expect("runs");
    use EventType::*;
    assert_eq!(
        task_events(execution.history()),
        [
            (ExecutionStarted, None),
            (TaskStateEntered, None),
            (TaskScheduled, None),
            (TaskStarted, None),
            (TaskSucceeded, None),
            (ExecutionFailed, Some("States.Runtime")),
        ]
    );
}

/// AWS's recording: the `States.DataLimitExceeded` catcher's target (a Pass state) gets
/// `{"Error": "States.DataLimitExceeded", "Cause": "..."}`.
#[tokio::test(start_paused = true)]
async fn a_catch_target_may_take_the_error_in_aws_shape() {
    let execution = runtime()
        .execute::<LargeResultAwsShape>(4096)
        .await
        .expect("runs");
    let output = execution.output().expect("caught");
    assert_eq!(output["Error"], "States.DataLimitExceeded");
    assert!(output["Cause"]
        .as_str()
        .is_some_and(|cause| !cause.is_empty()));
    assert_eq!(output.as_object().map(serde_json::Map::len), Some(2));
    use EventType::*;
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskFailed,
            TaskStateExited,
            PassStateEntered,
            PassStateExited,
            ExecutionSucceeded
        ]
    );
}
