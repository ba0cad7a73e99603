//! `Assign` variables on the runtime: set after a state, read as `$name`, seen by Map
//! iterations and Parallel branches, and not changed by them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test.

use serde_json::{json, Value};
use workflow_asl::{AslWorkflow, Handlers, RegisterAsl};
use workflow_runtime::{Mode, Runtime, VirtualClock};

async fn run(definition: Value, input: Value) -> workflow_runtime::Execution<Value> {
    let workflow = AslWorkflow::from_json("Vars", Mode::Standard, &definition).unwrap();
    let runtime = Runtime::builder()
        .resource(Handlers::new())
        .clock(VirtualClock::new())
        .register_asl(&workflow)
        .build()
        .unwrap();
    runtime.execute_json("Vars", input).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn iterations_read_outer_variables_and_their_own_stay_inside() {
    let execution = run(
        json!({
            "StartAt": "Set",
            "States": {
                "Set": {"Type": "Pass", "Assign": {"bias": 10, "label": "outer"}, "Next": "Each"},
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "Add", "States": {
                        "Add": {"Type": "Pass",
                                "Parameters": {"sum.$": "States.MathAdd($, $bias)"},
                                "Assign": {"label": "inner"},
                                "End": true}
                    }},
                    "Next": "Report"
                },
                "Report": {"Type": "Pass", "Parameters": {"sums.$": "$", "label.$": "$label"}, "End": true}
            }
        }),
        json!({"items": [1, 2, 3]}),
    )
    .await;
    assert_eq!(
        execution.output(),
        Some(&json!({"sums": [{"sum": 11}, {"sum": 12}, {"sum": 13}], "label": "outer"}))
    );
}

#[tokio::test(start_paused = true)]
async fn a_choice_assigns_by_the_rule_taken_or_by_its_default() {
    let definition = json!({
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Assign": {"size": "big"}, "Next": "Done"}],
                "Assign": {"size": "small", "seen.$": "$.n"},
                "Default": "Done"
            },
            "Done": {"Type": "Pass", "Parameters": {"size.$": "$size"}, "End": true}
        }
    });
    let big = run(definition.clone(), json!({"n": 9})).await;
    assert_eq!(big.output(), Some(&json!({"size": "big"})));
    let small = run(definition, json!({"n": 1})).await;
    assert_eq!(small.output(), Some(&json!({"size": "small"})));
}

#[tokio::test(start_paused = true)]
async fn every_assignment_of_a_state_reads_the_variables_as_they_were() {
    let execution = run(
        json!({
            "StartAt": "First",
            "States": {
                "First": {"Type": "Pass", "Assign": {"a": 1}, "Next": "Second"},
                "Second": {"Type": "Pass", "Assign": {"a": 2, "old.$": "$a"}, "OutputPath": "$a", "Next": "Third"},
                "Third": {"Type": "Pass", "Parameters": {"a.$": "$a", "old.$": "$old", "input.$": "$"}, "End": true}
            }
        }),
        json!({}),
    )
    .await;
    // Second's OutputPath reads `a` before Second assigns it.
    assert_eq!(
        execution.output(),
        Some(&json!({"a": 2, "old": 1, "input": 1}))
    );
}
