//! Parallel and Map states: their exits record the state's output (the branches' results
//! shaped and placed), and a catcher's target gets the error placed in the input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test.

use serde_json::{json, Value};
use workflow_asl::{AslWorkflow, Handlers, RegisterAsl, TaskCall, TaskError};
use workflow_runtime::history::EventType;
use workflow_runtime::{Execution, Mode, Runtime, VirtualClock};

async fn fail(_call: TaskCall) -> Result<Value, TaskError> {
    Err(TaskError::new("Broken", "it broke"))
}

async fn run(definition: Value, input: Value) -> Execution<Value> {
    let workflow = AslWorkflow::from_json("Fan", Mode::Express, &definition).unwrap();
    let runtime = Runtime::builder()
        .resource(Handlers::new().resource("arn:fail", fail))
        .clock(VirtualClock::new())
        .register_asl(&workflow)
        .build()
        .unwrap();
    runtime.execute_json("Fan", input).await.unwrap()
}

fn exit_of(execution: &Execution<Value>, kind: EventType) -> Value {
    execution
        .history()
        .events()
        .iter()
        .find(|event| event.kind == kind)
        .and_then(|event| event.output.clone())
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_map_exit_records_its_output_and_a_parallel_catch_the_placed_error() {
    let map = run(
        json!({
            "StartAt": "Each",
            "States": {"Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Double", "States": {
                    "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": true}
                }},
                "ResultSelector": {"doubled.$": "$[*].v"},
                "ResultPath": "$.result",
                "End": true
            }}
        }),
        json!({"items": [1, 2]}),
    )
    .await;
    let output = json!({"items": [1, 2], "result": {"doubled": [2, 4]}});
    assert_eq!(map.output(), Some(&output));
    assert_eq!(exit_of(&map, EventType::MapStateExited), output);

    let parallel = run(
        json!({
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "Break", "States": {"Break": {"Type": "Task", "Resource": "arn:fail", "End": true}}}],
                    "Catch": [{"ErrorEquals": ["Broken"], "ResultPath": "$.error", "Next": "Done"}],
                    "End": true
                },
                "Done": {"Type": "Succeed"}
            }
        }),
        json!({"order": 1}),
    )
    .await;
    let caught = json!({"order": 1, "error": {"Error": "Broken", "Cause": "it broke"}});
    assert_eq!(parallel.output(), Some(&caught));
    assert_eq!(exit_of(&parallel, EventType::ParallelStateExited), caught);
}
