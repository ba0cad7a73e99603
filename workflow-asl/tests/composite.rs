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

fn kinds(history: &workflow_runtime::history::History) -> Vec<&'static str> {
    history
        .events()
        .iter()
        .map(|event| event.kind.name())
        .collect()
}

fn distributed(tolerated: Option<u64>) -> Value {
    let mut map = json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Check",
            "States": {
                "Check": {"Type": "Choice", "Choices": [
                    {"Variable": "$", "NumericEquals": 0, "Next": "Broken"}
                ], "Default": "Double"},
                "Broken": {"Type": "Task", "Resource": "arn:fail", "End": true},
                "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": true}
            }
        },
        "End": true
    });
    if let Some(count) = tolerated {
        map["ToleratedFailureCount"] = json!(count);
    }
    json!({"StartAt": "Each", "States": {"Each": map}})
}

#[tokio::test(start_paused = true)]
async fn a_distributed_map_runs_each_item_as_a_child_execution_with_its_own_history() {
    let execution = run(distributed(None), json!({"items": [1, 2, 3]})).await;
    assert_eq!(
        execution.output(),
        Some(&json!([{"v": 2}, {"v": 4}, {"v": 6}]))
    );
    // The parent records the map run, not the iterations.
    assert_eq!(
        kinds(execution.history()),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
    let children = execution.children();
    assert_eq!(children.len(), 3);
    for child in children {
        assert_eq!(child.parent_state, "Each");
        assert_ne!(&child.id, execution.id());
        assert_eq!(
            kinds(&child.history),
            [
                "ExecutionStarted",
                "ChoiceStateEntered",
                "ChoiceStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_distributed_map_tolerates_failed_children_or_fails_its_map_run() {
    let tolerated = run(distributed(Some(1)), json!({"items": [0, 2]})).await;
    assert_eq!(
        tolerated.output(),
        Some(&json!([{"Error": "Broken", "Cause": "it broke"}, {"v": 4}]))
    );
    let failed_child = tolerated
        .children()
        .iter()
        .find(|child| child.status == workflow_runtime::ExecutionStatus::Failed)
        .unwrap();
    assert!(kinds(&failed_child.history).contains(&"TaskFailed"));

    let failed = run(distributed(Some(0)), json!({"items": [0, 2]})).await;
    assert_eq!(
        failed.failure().map(|failure| failure.error().to_owned()),
        Some("States.ExceedToleratedFailureThreshold".to_owned())
    );
    let parent = kinds(failed.history());
    assert!(parent.contains(&"MapRunFailed"), "{parent:?}");
    assert!(!parent.iter().any(|kind| kind.starts_with("MapIteration")));
}

async fn read_object(call: TaskCall) -> Result<Value, TaskError> {
    match call.input["Key"].as_str() {
        Some("rows.csv") => Ok(json!({"Body": "name,size\na,1\nb,2\nc,3\n"})),
        _ => Err(TaskError::new("S3.NoSuchKey", "no such key")),
    }
}

async fn read_run(reader_config: Value, batcher: Option<Value>, key: &str) -> Execution<Value> {
    let mut map = json!({
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": reader_config,
            "Parameters": {"Bucket": "data", "Key.$": "$.key"}
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Keep",
            "States": {"Keep": {"Type": "Pass", "End": true}}
        },
        "End": true
    });
    if let Some(batcher) = batcher {
        map["ItemBatcher"] = batcher;
    }
    let definition = json!({"StartAt": "Each", "States": {"Each": map}});
    let workflow = AslWorkflow::from_json("Read", Mode::Standard, &definition).unwrap();
    let runtime = Runtime::builder()
        .resource(Handlers::new().resource("arn:aws:states:::s3:getObject", read_object))
        .clock(VirtualClock::new())
        .register_asl(&workflow)
        .build()
        .unwrap();
    runtime
        .execute_json("Read", json!({"key": key}))
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn an_item_reader_reads_the_items_of_its_resource_once_the_map_run_started() {
    let csv = json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 2});
    let read = read_run(csv.clone(), None, "rows.csv").await;
    assert_eq!(
        read.output(),
        Some(&json!([{"name": "a", "size": "1"}, {"name": "b", "size": "2"}]))
    );
    assert_eq!(read.children().len(), 2);
    // The state starts with no items known: the map run reads them.
    let started = read
        .history()
        .events()
        .iter()
        .find(|event| event.kind == EventType::MapStateStarted)
        .unwrap();
    assert_eq!(started.length, Some(0));

    let batched = read_run(
        json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}),
        Some(json!({"MaxItemsPerBatch": 2, "BatchInput": {"from.$": "$.key"}})),
        "rows.csv",
    )
    .await;
    assert_eq!(
        batched.output(),
        Some(&json!([
            {"Items": [{"name": "a", "size": "1"}, {"name": "b", "size": "2"}], "BatchInput": {"from": "rows.csv"}},
            {"Items": [{"name": "c", "size": "3"}], "BatchInput": {"from": "rows.csv"}}
        ]))
    );

    let missing = read_run(csv, None, "gone.csv").await;
    assert_eq!(
        missing.failure().map(|failure| failure.error().to_owned()),
        Some("S3.NoSuchKey".to_owned())
    );
    let kinds = kinds(missing.history());
    assert!(
        kinds.ends_with(&[
            "MapRunStarted",
            "MapRunFailed",
            "MapStateFailed",
            "ExecutionFailed"
        ]),
        "{kinds:?}"
    );
}
