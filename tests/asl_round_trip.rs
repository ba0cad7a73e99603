//! A workflow exported to ASL runs the same as the workflow itself: the export, run by the
//! ASL runtime with the same `#[step]` functions as handlers, ends the same way (status,
//! output, error) through the same events. The default export names each task's resource by
//! a Lambda function ARN, whose tasks Step Functions records as `LambdaFunction*` events
//! where a `workflow!` task records `Task*`: the comparison reads them as the same.
//!
//! The workflow here uses every construct the export writes as it runs, catchers handing on
//! `Caught<I>` (a JSONata state in the export) and `CaughtError` among them. Rust code in
//! other states (Choice conditions, Map selectors other than the whole input, Pass
//! transforms, settings worked out from the input) is exported as a placeholder with the
//! code in its `Comment`, which no ASL runner can run the same.
//!
//! Also here: an ASL `startExecution.sync` task runs a `workflow!` workflow as its child.

#![cfg(feature = "asl")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed expectation fails the test.

use serde_json::json;
use workflow::asl::{AslWorkflow, Handlers, RegisterAsl};
use workflow::history::{EventType, History};
use workflow::prelude::*;
use workflow::render::Asl;
use workflow::{ExecutionStatus, Mode, VirtualClock};

/// Why a check fails.
#[derive(Debug, Clone, thiserror::Error, StepError)]
enum CheckError {
    #[error("the checker is busy")]
    Busy,
    #[error("nothing to check")]
    Empty,
}

/// Busy on its first attempt; refuses an empty list.
#[step]
async fn check(items: Vec<u32>, context: StepContext) -> Result<Vec<u32>, CheckError> {
    if context.attempt() == 1 {
        return Err(CheckError::Busy);
    }
    if items.is_empty() {
        return Err(CheckError::Empty);
    }
    Ok(items)
}

/// Why an item cannot be doubled.
#[derive(Debug, Clone, thiserror::Error, StepError)]
enum DoubleError {
    #[error("zero stays zero")]
    Zero,
}

#[step]
async fn double(item: u32) -> Result<u32, DoubleError> {
    match item {
        0 => Err(DoubleError::Zero),
        item => Ok(item * 2),
    }
}

/// A catch target given the failed state's input, name and error.
#[step]
async fn explain(failed: Caught<Vec<u32>>) -> Vec<u32> {
    let length = |text: &str| u32::try_from(text.len()).unwrap_or(u32::MAX);
    let mut explained = failed.input;
    explained.extend([
        length(&failed.state),
        length(&failed.error),
        length(&failed.cause),
    ]);
    explained
}

/// A catch target given the error alone.
#[step]
async fn excuse(error: CaughtError) -> Vec<u32> {
    vec![u32::try_from(error.error.len() + error.cause.len()).unwrap_or(u32::MAX)]
}

#[step]
async fn sum(items: Vec<u32>) -> u32 {
    items.iter().sum()
}

#[step]
async fn count(items: Vec<u32>) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

#[step]
async fn join(totals: (u32, u32)) -> Vec<u32> {
    vec![totals.0, totals.1]
}

workflow! {
    /// Tasks with a retry and a catch, a Map state over the input's list, a Parallel state,
    /// a fixed Wait, Pass, Succeed and Fail.
    Tally: Standard<Vec<u32>, Vec<u32>> {
        start Check;
        Check: task check -> Each,
            retry CheckError::Busy { max_attempts: 2, interval: 1s },
            catch CheckError::Empty -> Explain,
            catch CheckError::Busy -> Refused;
        Explain: task explain -> end;
        Each: map |items: &Vec<u32>| items.clone() {
            start Double;
            Double: task double -> end;
        } -> Both, max_concurrency 2, catch States::ALL -> Excuse;
        Excuse: task excuse -> end;
        Both: parallel {
            branch {
                start Sum;
                Sum: task sum -> end;
            }
            branch {
                start Count;
                Count: task count -> end;
            }
        } -> Rest;
        Rest: wait 1h -> Join;
        Join: task join -> Keep;
        Keep: pass -> Done;
        Done: succeed;
        Refused: fail "Refused", cause "there was nothing to tally";
    }
}

fn handlers() -> Handlers {
    Handlers::new()
        .step::<check>()
        .step::<double>()
        .step::<sum>()
        .step::<count>()
        .step::<join>()
        .step::<explain>()
        .step::<excuse>()
}

/// The event types of `history`, a Lambda function's read as a task's.
fn kinds(history: &History) -> Vec<EventType> {
    history
        .events()
        .iter()
        .map(|event| event.kind.as_task_event())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn the_asl_export_of_a_workflow_runs_as_the_workflow_does() {
    let export = Asl::new().render(Tally::definition());
    let exported = AslWorkflow::from_json_str("TallyAsl", Mode::Standard, &export).unwrap();
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .resource(handlers())
        .register::<Tally>()
        .register_asl(&exported)
        .build()
        .unwrap();
    for input in [vec![1, 2, 3], vec![], vec![0]] {
        let native = runtime.execute::<Tally>(input.clone()).await.unwrap();
        let asl = runtime
            .execute_json("TallyAsl", json!(input))
            .await
            .unwrap();
        assert_eq!(asl.status(), native.status(), "{input:?}");
        assert_eq!(
            asl.output(),
            native.output().map(|output| json!(output)).as_ref(),
            "{input:?}"
        );
        assert_eq!(
            asl.failure()
                .map(|failure| (failure.error(), failure.cause())),
            native
                .failure()
                .map(|failure| (failure.error(), failure.cause())),
            "{input:?}"
        );
        assert_eq!(kinds(asl.history()), kinds(native.history()), "{input:?}");
    }
    // Every way was taken: through every state, caught with the input after a retry, and
    // caught with the error alone.
    let tallied = runtime.execute::<Tally>(vec![1, 2, 3]).await.unwrap();
    assert_eq!(tallied.output(), Some(&vec![12, 3]));
    let explained = runtime.execute::<Tally>(vec![]).await.unwrap();
    assert_eq!(explained.output(), Some(&vec![5, 16, 16]));
    let excused = runtime.execute::<Tally>(vec![0]).await.unwrap();
    assert_eq!(excused.status(), ExecutionStatus::Succeeded);
    // The export says why it is in JSONata where it is.
    let value: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(value["States"]["Check"]["QueryLanguage"], "JSONata");
    assert_eq!(value["States"]["Each"]["Catch"][0]["ResultPath"], "$");
}

#[tokio::test(start_paused = true)]
async fn an_asl_sync_task_runs_a_workflow_as_a_child_execution() {
    let parent = AslWorkflow::from_json(
        "Parent",
        Mode::Standard,
        &json!({"StartAt": "Tally", "States": {"Tally": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Tally",
                "Input.$": "$.items"
            },
            "ResultSelector": {"totals.$": "$.Output", "status.$": "$.Status"},
            "End": true
        }}}),
    )
    .unwrap();
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .resource(handlers())
        .register::<Tally>()
        .register_asl(&parent)
        .build()
        .unwrap();
    let done = runtime
        .execute_json("Parent", json!({"items": [1, 2, 3]}))
        .await
        .unwrap();
    assert_eq!(
        done.output(),
        Some(&json!({"totals": [12, 3], "status": "SUCCEEDED"}))
    );
    let children = done.children();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].workflow, "Tally");
    assert_eq!(children[0].status, ExecutionStatus::Succeeded);
    // An input the workflow does not take fails the task.
    let refused = runtime
        .execute_json("Parent", json!({"items": "none"}))
        .await
        .unwrap();
    let failure = refused.failure().unwrap();
    assert_eq!(failure.error(), "States.TaskFailed");
    assert!(
        failure.cause().contains("does not read as"),
        "{}",
        failure.cause()
    );
}
