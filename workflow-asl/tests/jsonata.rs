//! States written in JSONata on the runtime: `Arguments`, `Output`, `Assign`, `Condition`,
//! `Items`, and a failing expression recorded as `EvaluationFailed`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test.

use serde_json::{json, Value};
use workflow_asl::{AslWorkflow, Handlers, RegisterAsl, TaskCall, TaskError};
use workflow_runtime::history::EventType;
use workflow_runtime::{ExecutionStatus, Mode, Runtime, VirtualClock};

async fn double(call: TaskCall) -> Result<Value, TaskError> {
    Ok(json!({"doubled": call.input["n"].as_i64().unwrap_or(0) * 2}))
}

async fn run(definition: Value, input: Value) -> workflow_runtime::Execution<Value> {
    let workflow = AslWorkflow::from_json("Ata", Mode::Standard, &definition).unwrap();
    let runtime = Runtime::builder()
        .resource(Handlers::new().resource("arn:double", double))
        .clock(VirtualClock::new())
        .register_asl(&workflow)
        .build()
        .unwrap();
    runtime.execute_json("Ata", input).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn arguments_output_assign_condition_and_items_evaluate() {
    let execution = run(
        json!({
            "QueryLanguage": "JSONata",
            "StartAt": "Double",
            "States": {
                "Double": {
                    "Type": "Task",
                    "Resource": "arn:double",
                    "Arguments": {"n": "{% $states.input.n + 1 %}"},
                    "Assign": {"doubled": "{% $states.result.doubled %}"},
                    "Output": {"items": "{% [1, 2, $states.result.doubled] %}"},
                    "Next": "Big?"
                },
                "Big?": {
                    "Type": "Choice",
                    "Choices": [{"Condition": "{% $doubled > 5 %}", "Next": "Each"}],
                    "Default": "Small"
                },
                "Each": {
                    "Type": "Map",
                    "Items": "{% $states.input.items %}",
                    "ItemProcessor": {"StartAt": "Scale", "States": {
                        "Scale": {"Type": "Pass", "Output": "{% $states.input * $doubled %}", "End": true}
                    }},
                    "Output": {"scaled": "{% $states.result %}", "sum": "{% $sum($states.result) %}"},
                    "End": true
                },
                "Small": {"Type": "Succeed", "Output": "small"}
            }
        }),
        json!({"n": 2}),
    )
    .await;
    assert_eq!(
        execution.output(),
        Some(&json!({"scaled": [6, 12, 36], "sum": 54}))
    );
}

#[tokio::test(start_paused = true)]
async fn an_expression_that_gives_nothing_is_recorded_then_fails_the_execution() {
    let execution = run(
        json!({
            "QueryLanguage": "JSONata",
            "StartAt": "Broken",
            "States": {"Broken": {"Type": "Pass", "Output": {"r": "{% $nothing %}"}, "End": true}}
        }),
        json!({}),
    )
    .await;
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let failure = execution.failure().unwrap();
    assert_eq!(failure.error(), "States.QueryEvaluationError");
    assert!(failure.cause().ends_with(
        "The JSONata expression '$nothing' specified for the field 'Output/r' returned nothing (undefined)."
    ));
    let kinds: Vec<EventType> = execution
        .history()
        .events()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventType::ExecutionStarted,
            EventType::PassStateEntered,
            EventType::EvaluationFailed,
            EventType::ExecutionFailed
        ]
    );
}
