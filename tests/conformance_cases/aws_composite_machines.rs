//! Parallel and Map machines from AWS, written in the DSL, with the whole event-type sequence
//! and ending Step Functions recorded for them (each test names the recording). Where lanes run
//! concurrently, the order of their events is AWS's own choice; those tests compare each lane
//! and the top level.

use serde_json::{json, Value};
use workflow::prelude::*;
use workflow::{EventType, VirtualClock};

use crate::lane;

use EventType::*;

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .register::<ParallelStateOrder>()
        .register::<ParallelStateCatch>()
        .register::<ParallelStateRetry>()
        .register::<MapRetryMultipleRetriers>()
        .register::<MapCatchEmptyFail>()
        .register::<MapBreakCondition>()
        .register::<MapInline>()
        .build()
        .expect("builds")
}

workflow! {
    /// `PARALLEL_STATE_ORDER`: four branches, each a Pass state with a `Result`.
    ParallelStateOrder: Standard<Value, (Value, Value, Value, Value)> {
        start StartState;
        StartState: parallel {
            branch { start Branch0; Branch0: pass |_v: Value| -> Value { json!({"branch": 0}) } -> end; }
            branch { start Branch1; Branch1: pass |_v: Value| -> Value { json!({"branch": 1}) } -> end; }
            branch { start Branch2; Branch2: pass |_v: Value| -> Value { json!({"branch": 2}) } -> end; }
            branch { start Branch3; Branch3: pass |_v: Value| -> Value { json!({"branch": 3}) } -> end; }
        } -> end;
    }
}

/// AWS: `ExecutionStarted, ParallelStateEntered, ParallelStateStarted, PassStateEntered ×4,
/// PassStateExited ×4, ParallelStateExited, ExecutionSucceeded` (no `ParallelStateSucceeded`),
/// the output in branch order.
#[tokio::test(start_paused = true)]
async fn parallel_state_order() {
    let execution = runtime()
        .execute::<ParallelStateOrder>(json!({}))
        .await
        .expect("runs");
    let history = execution.history();
    assert_eq!(
        lane(history, None),
        [
            ExecutionStarted,
            ParallelStateEntered,
            ParallelStateStarted,
            ParallelStateExited,
            ExecutionSucceeded
        ]
    );
    for branch in 0..4 {
        assert_eq!(
            lane(history, Some(&format!("StartState/{branch}"))),
            [PassStateEntered, PassStateExited]
        );
    }
    let exited = history.events().iter().rev().nth(1).expect("an exit");
    assert_eq!(
        exited.output,
        Some(json!([{"branch": 0}, {"branch": 1}, {"branch": 2}, {"branch": 3}]))
    );
}

workflow! {
    /// `PARALLEL_STATE_CATCH`: one branch, only a Fail state, caught.
    ParallelStateCatch: Standard<Value, Value> {
        start ParallelState;
        ParallelState: parallel {
            branch {
                start Branch1;
                Branch1: fail "FailureType", cause "Cause description";
            }
        } -> Final, catch "FailureType" -> FinalCaught;
        FinalCaught: pass |caught: Caught<Value>| -> Value { json!({"Error": caught.error, "Cause": caught.cause}) } -> end;
        Final: pass |_never: (Never,)| -> Value { Value::Null } -> end;
    }
}

/// AWS: `ExecutionStarted, ParallelStateEntered, ParallelStateStarted, FailStateEntered,
/// ParallelStateFailed, ParallelStateExited, PassStateEntered, PassStateExited,
/// ExecutionSucceeded`.
#[tokio::test(start_paused = true)]
async fn parallel_state_catch() {
    let execution = runtime()
        .execute::<ParallelStateCatch>(json!({}))
        .await
        .expect("runs");
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            ParallelStateEntered,
            ParallelStateStarted,
            FailStateEntered,
            ParallelStateFailed,
            ParallelStateExited,
            PassStateEntered,
            PassStateExited,
            ExecutionSucceeded
        ]
    );
}

workflow! {
    /// `PARALLEL_STATE_RETRY`: one branch, only a Fail state, retried twice.
    ParallelStateRetry: Standard<Value, Value> {
        start ParallelState;
        ParallelState: parallel {
            branch {
                start Branch1;
                Branch1: fail "FailureType", cause "Cause description";
            }
        } -> Final, retry "FailureType" { max_attempts: 2 };
        Final: pass |_never: (Never,)| -> Value { Value::Null } -> end;
    }
}

/// AWS: `ExecutionStarted, ParallelStateEntered, (ParallelStateStarted, FailStateEntered) ×3,
/// ParallelStateFailed, ExecutionFailed` with `FailureType`, `Cause description`.
#[tokio::test(start_paused = true)]
async fn parallel_state_retry() {
    let execution = runtime()
        .execute::<ParallelStateRetry>(json!({}))
        .await
        .expect("runs");
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            ParallelStateEntered,
            ParallelStateStarted,
            FailStateEntered,
            ParallelStateStarted,
            FailStateEntered,
            ParallelStateStarted,
            FailStateEntered,
            ParallelStateFailed,
            ExecutionFailed
        ]
    );
    let failure = execution.failure().expect("fails");
    assert_eq!(
        (failure.error(), failure.cause()),
        ("FailureType", "Cause description")
    );
}

workflow! {
    /// `test_map_state_retry_multiple_retriers`: the first matching retrier decides, and
    /// `State.ALL` (sic) is a plain name that matches nothing.
    MapRetryMultipleRetriers: Standard<Value, Value> {
        start StartState;
        StartState: pass |_input: Value| -> Vec<i64> { vec![1] } -> MapState;
        MapState: map |items: &Vec<i64>| -> Vec<i64> { items.clone() } {
            start HandleItemFail;
            HandleItemFail: fail "HandleItemFailError", cause "HandleItemFailCause";
        } -> Final, max_concurrency 1,
            retry unchecked "NoSuchError" { max_attempts: 1 },
            retry unchecked "State.ALL" { max_attempts: 2 },
            retry "HandleItemFailError" { max_attempts: 3 };
        Final: pass |_done: Vec<Never>| -> Value { Value::Null } -> end;
    }
}

/// AWS: `ExecutionStarted, PassStateEntered, PassStateExited, MapStateEntered,
/// (MapStateStarted, MapIterationStarted, FailStateEntered, MapIterationFailed) ×4,
/// MapStateFailed, ExecutionFailed`.
#[tokio::test(start_paused = true)]
async fn map_retry_multiple_retriers() {
    let execution = runtime()
        .execute::<MapRetryMultipleRetriers>(json!({}))
        .await
        .expect("runs");
    let attempt = [
        MapStateStarted,
        MapIterationStarted,
        FailStateEntered,
        MapIterationFailed,
    ];
    let mut expected = vec![
        ExecutionStarted,
        PassStateEntered,
        PassStateExited,
        MapStateEntered,
    ];
    for _ in 0..4 {
        expected.extend(attempt);
    }
    expected.extend([MapStateFailed, ExecutionFailed]);
    assert_eq!(execution.history().kinds(), expected);
    assert_eq!(
        execution.failure().map(|f| f.error()),
        Some("HandleItemFailError")
    );
}

workflow! {
    /// `test_map_state_catch_empty_fail`: an iteration that fails with no error name, which
    /// neither catcher (`Internal Error`, `State.ALL`) matches.
    MapCatchEmptyFail: Standard<Value, Value> {
        start StartState;
        StartState: pass |_input: Value| -> Vec<i64> { vec![1] } -> MapState;
        MapState: map |items: &Vec<i64>| -> Vec<i64> { items.clone() } {
            start HandleItemFail;
            HandleItemFail: fail;
        } -> CaughtNone, max_concurrency 1,
            catch unchecked "Internal Error" -> CaughtInternalError,
            catch unchecked "State.ALL" -> CaughtStatesAll;
        CaughtInternalError: pass |_c: Caught<Vec<i64>>| -> Value { Value::Null } -> end;
        CaughtStatesAll: pass |_c: Caught<Vec<i64>>| -> Value { Value::Null } -> end;
        CaughtNone: pass |_done: Vec<Never>| -> Value { Value::Null } -> end;
    }
}

/// AWS: `ExecutionStarted, PassStateEntered, PassStateExited, MapStateEntered,
/// MapStateStarted, MapIterationStarted, FailStateEntered, MapIterationFailed, MapStateFailed,
/// ExecutionFailed`.
#[tokio::test(start_paused = true)]
async fn map_catch_empty_fail() {
    let execution = runtime()
        .execute::<MapCatchEmptyFail>(json!({}))
        .await
        .expect("runs");
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            PassStateEntered,
            PassStateExited,
            MapStateEntered,
            MapStateStarted,
            MapIterationStarted,
            FailStateEntered,
            MapIterationFailed,
            MapStateFailed,
            ExecutionFailed
        ]
    );
}

fn is_three(item: &Value) -> bool {
    item.as_f64() == Some(3.0)
}

workflow! {
    /// `test_map_state_break_condition`: items one at a time; the item 3 breaks out.
    MapBreakCondition: Standard<Value, Value> {
        start StartState;
        StartState: pass |_input: Value| -> Vec<Value> {
            vec![json!(1), json!("Hello"), json!({}), json!(3.3), json!(3), json!(4), json!(5)]
        } -> MapState;
        MapState: map |items: &Vec<Value>| -> Vec<Value> { items.clone() } {
            start Equals3;
            Equals3: choice {
                is_three => Break,
                _ => Pass,
            };
            Break: fail "SomeFailure", cause "This state machines raises a 'SomeFailure' failure.";
            Pass: pass -> end;
        } -> Final, max_concurrency 1;
        Final: pass |_done: Vec<Value>| -> Value { Value::Null } -> end;
    }
}

/// AWS: four items through Choice and Pass (`MapIterationStarted, ChoiceStateEntered,
/// ChoiceStateExited, PassStateEntered, PassStateExited, MapIterationSucceeded` each), the
/// fifth to the Fail state (`MapIterationStarted, ChoiceStateEntered, ChoiceStateExited,
/// FailStateEntered, MapIterationFailed`), then `MapStateFailed, ExecutionFailed`; the items
/// after it never start.
#[tokio::test(start_paused = true)]
async fn map_break_condition() {
    let execution = runtime()
        .execute::<MapBreakCondition>(json!({}))
        .await
        .expect("runs");
    let mut expected = vec![
        ExecutionStarted,
        PassStateEntered,
        PassStateExited,
        MapStateEntered,
        MapStateStarted,
    ];
    for _ in 0..4 {
        expected.extend([
            MapIterationStarted,
            ChoiceStateEntered,
            ChoiceStateExited,
            PassStateEntered,
            PassStateExited,
            MapIterationSucceeded,
        ]);
    }
    expected.extend([
        MapIterationStarted,
        ChoiceStateEntered,
        ChoiceStateExited,
        FailStateEntered,
        MapIterationFailed,
        MapStateFailed,
        ExecutionFailed,
    ]);
    assert_eq!(execution.history().kinds(), expected);
    assert_eq!(execution.failure().map(|f| f.error()), Some("SomeFailure"));
}

workflow! {
    /// `test_map_state_legacy_config_inline`: a Map of Pass states, one at a time, then a
    /// Succeed state.
    MapInline: Standard<Vec<Value>, Vec<Value>> {
        start MapState;
        MapState: map |items: &Vec<Value>| -> Vec<Value> { items.clone() } {
            start IteratorInner;
            IteratorInner: pass -> end;
        } -> Finish, max_concurrency 1;
        Finish: succeed;
    }
}

/// AWS: `ExecutionStarted, MapStateEntered, MapStateStarted, (MapIterationStarted,
/// PassStateEntered, PassStateExited, MapIterationSucceeded) ×2, MapStateSucceeded,
/// MapStateExited, SucceedStateEntered, SucceedStateExited, ExecutionSucceeded`.
#[tokio::test(start_paused = true)]
async fn map_inline() {
    let execution = runtime()
        .execute::<MapInline>(vec![json!("Hello"), json!("World")])
        .await
        .expect("runs");
    assert_eq!(
        execution.output(),
        Some(&vec![json!("Hello"), json!("World")])
    );
    let iteration = [
        MapIterationStarted,
        PassStateEntered,
        PassStateExited,
        MapIterationSucceeded,
    ];
    let mut expected = vec![ExecutionStarted, MapStateEntered, MapStateStarted];
    expected.extend(iteration);
    expected.extend(iteration);
    expected.extend([
        MapStateSucceeded,
        MapStateExited,
        SucceedStateEntered,
        SucceedStateExited,
        ExecutionSucceeded,
    ]);
    assert_eq!(execution.history().kinds(), expected);
    // AWS's `mapStateStartedEventDetails {length}`.
    let started = &execution.history().events()[2];
    assert_eq!((started.kind, started.length), (MapStateStarted, Some(2)));
    assert_eq!(
        execution.history().to_aws_json()["events"][2]["mapStateStartedEventDetails"],
        json!({"length": 2})
    );
}
