//! Definitions refused, each problem at its JSON pointer, as `ValidateStateMachineDefinition`
//! would list them; and what an accepted definition reads as.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test.

use serde_json::json;
use workflow_asl::definition::{
    Comparison, Condition, Kind, Relation, ResultPath, Selection, StateKind, StateMachine,
    Transition,
};

/// The problems of `definition`, as `pointer: message` lines.
fn problems(definition: serde_json::Value) -> Vec<String> {
    StateMachine::from_json(&definition)
        .expect_err("the definition should be refused")
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn an_unknown_next_state_is_named_with_the_closest_one() {
    let found = problems(json!({
        "StartAt": "Charge",
        "States": {
            "Charge": {"Type": "Task", "Resource": "arn:charge", "Next": "Shipp"},
            "Ship": {"Type": "Succeed"}
        }
    }));
    assert_eq!(
        found,
        [
            "/States/Charge/Next: unknown state \"Shipp\"; did you mean \"Ship\"?",
            "/States/Ship: the state \"Ship\" cannot be reached from StartAt",
        ]
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let found = problems(json!({
        "StartAt": "Start",
        "Comment": 3,
        "States": {
            "Start": {"Type": "Pass", "Nxt": "Done", "ResultPath": "$.items[*]"},
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThen": 5, "Next": "Done"},
                {"Variable": "$.s", "StringEquals": 5, "Next": "Done"}
            ]},
            "Wait": {"Type": "Wait", "Next": "Done"},
            "Params": {"Type": "Pass", "Parameters": {"x.$": "States.Formt('{}', $.a)"}, "End": true},
            "Done": {"Type": "Succeed", "End": true},
            "Weird": {"Type": "Sleep"}
        }
    }));
    let expected = [
        "/Comment: Comment must be a string, not a number",
        "/States/Start: the state needs Next (the state that follows) or \"End\": true",
        "/States/Start/ResultPath: ResultPath must be a reference path into the input ($.field, $['field'], $.list[0]), not '$.items[*]'",
        "/States/Start/Nxt: the field Nxt is not supported in a Pass state; did you mean \"Next\"?",
        "/States/Check/Choices/0/NumericGreaterThen: NumericGreaterThen is not a comparison operator; did you mean \"NumericGreaterThan\"?",
        "/States/Check/Choices/1/StringEquals: StringEquals must be a string, not a number",
        "/States/Wait: a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath",
        "/States/Params/Parameters/x.$: unknown intrinsic function 'States.Formt'; did you mean 'States.Format'?",
        "/States/Done/End: the field End is not supported in a Succeed state",
        "/States/Weird/Type: \"Sleep\" is not a state type: use Task, Pass, Choice, Wait, Succeed, Fail, Parallel or Map",
    ];
    let mut sorted = expected.to_vec();
    sorted.sort_by_key(|line| line.split(": ").next().unwrap_or_default().to_owned());
    assert_eq!(found, sorted);
}

#[test]
fn branches_and_processors_are_checked_as_graphs_of_their_own() {
    let found = problems(json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Fan"}}}
            ]},
            "Each": {"Type": "Map", "End": true, "ItemProcessor": {
                "StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}
            }, "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "Parameters": {}}
        }
    }));
    assert_eq!(
        found,
        [
            "/States/Each: a Map state takes ItemSelector or Parameters, not both",
            "/States/Each: the state \"Each\" cannot be reached from StartAt",
            "/States/Fan/Branches/0/States/A/Next: unknown state \"Fan\"",
        ]
    );
}

#[test]
fn retriers_and_catchers_are_checked() {
    let found = problems(json!({
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "arn:t", "End": true,
                  "Retry": [{"ErrorEquals": ["States.ALL", "X"], "BackoffRate": 0.5}],
                  "Catch": [{"ErrorEquals": [], "Next": "Gone"}]}
        }
    }));
    assert_eq!(
        found,
        [
            "/States/T/Catch/0/ErrorEquals: ErrorEquals must not be empty",
            "/States/T/Catch/0/Next: unknown state \"Gone\"",
            "/States/T/Retry/0/BackoffRate: BackoffRate must be at least 1.0, not 0.5",
            "/States/T/Retry/0/ErrorEquals: States.ALL must appear alone in ErrorEquals",
        ]
    );
}

#[test]
fn text_that_is_not_json_is_one_problem_at_the_root() {
    let error = StateMachine::from_json_str("{\"StartAt\": ").unwrap_err();
    assert_eq!(error.problems.len(), 1);
    assert!(error.to_string().starts_with(
        "the state machine definition has 1 problem:\n  /: the definition is not JSON"
    ));
}

#[test]
fn an_accepted_definition_reads_as_its_model() {
    let machine = StateMachine::from_json(&json!({
        "StartAt": "Check",
        "TimeoutSeconds": 60,
        "States": {
            "Check": {"Type": "Choice", "Choices": [
                {"And": [
                    {"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.min"},
                    {"Not": {"Variable": "$.tag", "IsNull": true}}
                ], "Next": "Work"}
            ], "Default": "Done"},
            "Work": {"Type": "Task", "Resource": "arn:work", "InputPath": null,
                     "ResultPath": "$.out", "TimeoutSecondsPath": "$.limit", "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }
    }))
    .unwrap();
    assert_eq!(machine.timeout_seconds, Some(60));
    let check = machine.graph.state("Check").unwrap();
    let StateKind::Choice(choice) = &check.kind else {
        panic!("Check is a Choice state")
    };
    let Condition::And(rules) = &choice.choices[0].condition else {
        panic!("the rule is an And")
    };
    assert!(matches!(
        &rules[0],
        Condition::Compare {
            comparison: Comparison::Relation {
                kind: Kind::Numeric,
                relation: Relation::GreaterThanEquals,
                ..
            },
            ..
        }
    ));
    let work = machine.graph.state("Work").unwrap();
    assert_eq!(work.input_path, Selection::Nothing);
    assert_eq!(work.transition, Some(Transition::Next("Done".to_owned())));
    let StateKind::Task(task) = &work.kind else {
        panic!("Work is a Task state")
    };
    assert!(matches!(task.shaping.result_path, ResultPath::At(_)));
}

#[test]
fn state_names_are_unique_across_branches() {
    let found = problems(json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "Next": "Done", "Branches": [
                {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
            ]},
            "Done": {"Type": "Succeed"}
        }
    }));
    assert_eq!(
        found,
        ["/States/Fan/Branches/0/States/Done: the state name \"Done\" is also used at /States/Done: names are unique across the machine"]
    );
}
