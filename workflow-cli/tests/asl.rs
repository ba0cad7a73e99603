//! `workflow asl validate|diagram|run`: the repository's example definition and its mock
//! configuration, and a definition with mistakes; a run in memory, and one kept in a store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed expectation fails the test.

use std::path::PathBuf;
use std::process::{Command, Output};

fn example(file: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/definitions")
        .join(file)
        .to_string_lossy()
        .into_owned()
}

fn workflow(args: &[&str]) -> Output {
    // No store is given: the `asl` commands open none (a run keeps its execution in memory).
    Command::new(env!("CARGO_BIN_EXE_workflow"))
        .env_remove("WORKFLOW_STORE")
        .current_dir(std::env::temp_dir())
        .args(args)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn validate_accepts_the_example_and_lists_every_problem_of_a_broken_definition() {
    let valid = workflow(&["asl", "validate", &example("order.asl.json")]);
    assert!(valid.status.success());
    assert!(
        text(&valid).ends_with("order.asl.json: valid, 5 states\n"),
        "{}",
        text(&valid)
    );

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Dne"}, "Done": {"Type": "Succeed"}}}"#,
    )
    .unwrap();
    let refused = workflow(&["asl", "validate", broken.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let out = text(&refused);
    assert!(
        out.contains("the state machine definition has 2 problems:"),
        "{out}"
    );
    assert!(
        out.contains("/States/A/Next: unknown state \"Dne\"; did you mean \"Done\"?"),
        "{out}"
    );
    assert!(
        out.contains("/States/Done: the state \"Done\" cannot be reached from StartAt"),
        "{out}"
    );
}

#[test]
fn run_plays_a_mocked_test_case_and_exits_by_the_execution_status() {
    let config = example("order.mock.json");
    let run = |case: &str, input: &str| {
        workflow(&[
            "asl",
            "run",
            &example("order.asl.json"),
            "--input",
            input,
            "--mock-config",
            &config,
            "--test-case",
            case,
            "--state-machine",
            "Order",
        ])
    };
    let happy = run("HappyPath", r#"{"id": 1, "total": 20, "items": []}"#);
    assert!(
        happy.status.success(),
        "{}",
        String::from_utf8_lossy(&happy.stderr)
    );
    let out = text(&happy);
    assert!(
        out.contains("LambdaFunctionFailed") && out.contains("PaymentBusy"),
        "the busy payment is retried: {out}"
    );
    assert!(out.ends_with(r#"output: {"id":1,"items":[],"payment":{"receipt":"r-1"},"shipment":{"tracking":"TRACK-1"},"total":20}
"#), "{out}");

    let declined = run("Declined", r#"{"id": 2, "total": 20, "items": []}"#);
    assert_eq!(declined.status.code(), Some(1));
    assert!(
        text(&declined).ends_with("failed: Declined: card expired\n"),
        "{}",
        text(&declined)
    );

    let unknown = run("Nope", "{}");
    assert_eq!(unknown.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&unknown.stderr)
        .contains("no test case 'Nope' for 'Order' (it has: Declined, HappyPath)"));
}

#[test]
fn diagram_draws_the_definition() {
    let svg = workflow(&["asl", "diagram", &example("order.asl.json")]);
    assert!(svg.status.success());
    assert!(text(&svg).starts_with("<svg"));
    let mermaid = text(&workflow(&[
        "asl",
        "diagram",
        &example("order.asl.json"),
        "--format",
        "mermaid",
    ]));
    assert!(mermaid.contains("Check{\"<b>Check</b>\"}"), "{mermaid}");
}

#[test]
fn run_with_a_store_keeps_the_execution_there_for_the_other_commands() {
    let folder = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", folder.path().join("asl.db").display());
    let run = workflow(&[
        "asl",
        "run",
        &example("order.asl.json"),
        "--input",
        r#"{"id": 1, "total": 20, "items": []}"#,
        "--mock-config",
        &example("order.mock.json"),
        "--test-case",
        "HappyPath",
        "--state-machine",
        "Order",
        "--store",
        &store,
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = text(&run);
    let id = out
        .strip_prefix("execution ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    assert!(out.contains("ExecutionSucceeded"), "{out}");

    let listed = text(&workflow(&["--store", &store, "list"]));
    assert!(listed.contains(&id) && listed.contains("order"), "{listed}");
    let history = text(&workflow(&["--store", &store, "history", &id]));
    assert!(
        history.contains("LambdaFunctionFailed") && history.contains("ExecutionSucceeded"),
        "{history}"
    );
}
