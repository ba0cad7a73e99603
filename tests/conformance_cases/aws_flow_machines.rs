//! Pass, Fail, Choice, Task and Wait machines from AWS, written in the DSL, with the whole
//! event-type sequence and ending Step Functions records for them. Each test names the machine
//! (the `Comment` or test name of the AWS recording it reproduces) or the part of the Step
//! Functions developer guide its expectation comes from.

use std::time::Duration;

use serde_json::{json, Value};
use workflow::prelude::*;
use workflow::{EventType, ExecutionStatus, VirtualClock};

use EventType::*;

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .register::<PassResult>()
        .register::<RaiseEmptyFailure>()
        .register::<ChoiceSingleton>()
        .register::<ChoiceWithoutDefault>()
        .register::<TaskRetried>()
        .register::<TaskCaught>()
        .register::<TaskTimeout>()
        .register::<WaitSeconds>()
        .register::<ExecutionTimeout>()
        .build()
        .expect("builds")
}

workflow! {
    /// `test_state_pass_result`: a Pass state with a `Result`.
    PassResult: Standard<Value, Value> {
        start State1;
        State1: pass |_input: Value| -> Value { json!({"Arg1": "argument1"}) } -> end;
    }
}

/// AWS: `ExecutionStarted, PassStateEntered, PassStateExited, ExecutionSucceeded`.
#[tokio::test(start_paused = true)]
async fn pass_result() {
    let execution = runtime()
        .execute::<PassResult>(json!({}))
        .await
        .expect("runs");
    assert_eq!(execution.output(), Some(&json!({"Arg1": "argument1"})));
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            PassStateEntered,
            PassStateExited,
            ExecutionSucceeded
        ]
    );
}

workflow! {
    /// `RAISE_EMPTY_FAILURE`: a Fail state with neither error nor cause.
    RaiseEmptyFailure: Standard<Value, Value> {
        start FailState;
        FailState: fail;
    }
}

/// AWS: `ExecutionStarted, FailStateEntered, ExecutionFailed`.
#[tokio::test(start_paused = true)]
async fn raise_empty_failure() {
    let execution = runtime()
        .execute::<RaiseEmptyFailure>(json!({}))
        .await
        .expect("runs");
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(
        execution.history().kinds(),
        [ExecutionStarted, FailStateEntered, ExecutionFailed]
    );
}

workflow! {
    /// `test_choice_singleton_composite`: one rule and a default Fail state.
    ChoiceSingleton: Standard<Value, Value> {
        start ChoiceState;
        ChoiceState: choice {
            |input: &Value| input["type"] == "Public" => Public,
            _ => DefaultState,
        };
        Public: pass -> end;
        DefaultState: fail cause "No Matches!";
    }
}

/// AWS: `ExecutionStarted, ChoiceStateEntered, ChoiceStateExited, PassStateEntered,
/// PassStateExited, ExecutionSucceeded`; the default's Fail state when no rule holds.
#[tokio::test(start_paused = true)]
async fn choice_singleton() {
    let runtime = runtime();
    let public = runtime
        .execute::<ChoiceSingleton>(json!({"type": "Public", "value": 22}))
        .await
        .expect("runs");
    assert_eq!(
        public.history().kinds(),
        [
            ExecutionStarted,
            ChoiceStateEntered,
            ChoiceStateExited,
            PassStateEntered,
            PassStateExited,
            ExecutionSucceeded
        ]
    );
    let private = runtime
        .execute::<ChoiceSingleton>(json!({"type": "Private"}))
        .await
        .expect("runs");
    assert_eq!(
        private.history().kinds(),
        [
            ExecutionStarted,
            ChoiceStateEntered,
            ChoiceStateExited,
            FailStateEntered,
            ExecutionFailed
        ]
    );
    assert_eq!(private.failure().map(|f| f.cause()), Some("No Matches!"));
}

workflow! {
    /// A Choice state without `Default` (States Language specification: when no rule matches
    /// and there is no default, the state fails with `States.NoChoiceMatched`).
    ChoiceWithoutDefault: Standard<Value, Value> {
        start ChoiceState;
        ChoiceState: choice {
            |input: &Value| input["type"] == "Public" => Public,
        };
        Public: pass -> end;
    }
}

/// `ExecutionStarted, ChoiceStateEntered, ExecutionFailed` with `States.NoChoiceMatched`.
#[tokio::test(start_paused = true)]
async fn choice_without_default_fails_with_no_choice_matched() {
    let execution = runtime()
        .execute::<ChoiceWithoutDefault>(json!({"type": "Private"}))
        .await
        .expect("runs");
    assert_eq!(
        execution.history().kinds(),
        [ExecutionStarted, ChoiceStateEntered, ExecutionFailed]
    );
    assert_eq!(
        execution.failure().map(|f| f.error()),
        Some("States.NoChoiceMatched")
    );
}

#[derive(Debug, Clone, Copy, thiserror::Error, StepError)]
enum Flaky {
    #[error("try again")]
    Busy,
    #[error("no")]
    Refused,
}

/// Busy on its first attempt, then answers; refuses a negative input.
#[step]
async fn flaky(input: i64, ctx: StepContext) -> Result<i64, Flaky> {
    match (input, ctx.attempt()) {
        (input, _) if input < 0 => Err(Flaky::Refused),
        (_, 1) => Err(Flaky::Busy),
        (input, _) => Ok(input + 1),
    }
}

#[step]
async fn hang(input: i64) -> i64 {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    input
}

workflow! {
    /// Developer guide, "Handling errors": a Retry on the task's error.
    TaskRetried: Standard<i64, i64> {
        start Invoke;
        Invoke: task flaky -> end, retry Flaky::Busy { max_attempts: 2, interval: 1s };
    }
}

workflow! {
    /// Developer guide, "Handling errors": a Catch to a fallback state.
    TaskCaught: Standard<i64, i64> {
        start Invoke;
        Invoke: task flaky -> end, catch States::ALL -> Fallback;
        Fallback: pass |_c: Caught<i64>| -> i64 { 0 } -> end;
    }
}

workflow! {
    /// Developer guide, "Task": `TimeoutSeconds`.
    TaskTimeout: Standard<i64, i64> {
        start Invoke;
        Invoke: task hang -> end, timeout 5s;
    }
}

/// A retried attempt: `TaskStateEntered, TaskScheduled, TaskStarted, TaskFailed,
/// TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited`.
#[tokio::test(start_paused = true)]
async fn task_retried() {
    let execution = runtime().execute::<TaskRetried>(1).await.expect("runs");
    assert_eq!(execution.output(), Some(&2));
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskFailed,
            TaskScheduled,
            TaskStarted,
            TaskSucceeded,
            TaskStateExited,
            ExecutionSucceeded
        ]
    );
}

/// A caught failure: `TaskFailed, TaskStateExited`, then the catcher's target (as in AWS's
/// `SQS_WAIT_FOR_TASK_TOKEN_CATCH` recording).
#[tokio::test(start_paused = true)]
async fn task_caught() {
    let execution = runtime().execute::<TaskCaught>(-1).await.expect("runs");
    assert_eq!(execution.output(), Some(&0));
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

/// A timed-out task: `TaskTimedOut`, then `ExecutionFailed` with `States.Timeout`.
#[tokio::test(start_paused = true)]
async fn task_timeout() {
    let execution = runtime().execute::<TaskTimeout>(1).await.expect("runs");
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskTimedOut,
            ExecutionFailed
        ]
    );
    assert_eq!(
        execution.failure().map(|f| f.error()),
        Some("States.Timeout")
    );
}

workflow! {
    /// Developer guide, "Wait": `Seconds`.
    WaitSeconds: Standard<i64, i64> {
        start WaitState;
        WaitState: wait 10s -> Done;
        Done: succeed;
    }
}

/// `ExecutionStarted, WaitStateEntered, WaitStateExited, SucceedStateEntered,
/// SucceedStateExited, ExecutionSucceeded`, ten seconds apart.
#[tokio::test(start_paused = true)]
async fn wait_seconds() {
    let execution = runtime().execute::<WaitSeconds>(1).await.expect("runs");
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            WaitStateEntered,
            WaitStateExited,
            SucceedStateEntered,
            SucceedStateExited,
            ExecutionSucceeded
        ]
    );
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(10));
}

workflow! {
    /// Developer guide, state machine `TimeoutSeconds`.
    ExecutionTimeout: Standard<i64, i64> {
        timeout 2s;
        start Invoke;
        Invoke: task hang -> end;
    }
}

/// An execution over its `TimeoutSeconds` ends with `ExecutionTimedOut` (its running task is
/// aborted with it: Step Functions closes nothing else).
#[tokio::test(start_paused = true)]
async fn execution_timeout() {
    let execution = runtime()
        .execute::<ExecutionTimeout>(1)
        .await
        .expect("runs");
    assert_eq!(execution.status(), ExecutionStatus::TimedOut);
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            ExecutionTimedOut
        ]
    );
}
