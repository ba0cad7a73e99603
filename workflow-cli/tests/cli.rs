//! The `workflow` command against a SQLite store holding a succeeded and a failed execution.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::process::{Command, Output};

mod support;
use support::store;

fn workflow(store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_workflow"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn lists_describes_and_shows_histories() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());

    let list = stdout(&workflow(&store, &["list"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("ID "), "{list}");
    assert!(list.contains("odd-3") && list.contains("failed") && list.contains("CheckError.Odd"));
    assert!(list.contains("even-4") && list.contains("succeeded"));

    let failed = stdout(&workflow(&store, &["list", "--status", "failed", "--json"]));
    let failed: serde_json::Value = serde_json::from_str(&failed).unwrap();
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["name"], "odd-3");
    assert_eq!(failed[0]["error"], "CheckError.Odd");
    assert_eq!(failed[0]["input"], 3);

    let none = stdout(&workflow(&store, &["list", "--workflow", "Other"]));
    assert_eq!(none, "no executions\n");

    let described = stdout(&workflow(&store, &["describe", "odd-3"]));
    assert!(described.contains("status     failed"), "{described}");
    assert!(described.contains("cause      3 is odd"), "{described}");

    let history = stdout(&workflow(&store, &["history", "even-4", "--json"]));
    let events: serde_json::Value = serde_json::from_str(&history).unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"ExecutionStarted"));
    assert_eq!(kinds.last(), Some(&"ExecutionSucceeded"));
    let table = stdout(&workflow(&store, &["history", "odd-3"]));
    assert!(
        table.contains("TaskFailed") && table.contains("Check"),
        "{table}"
    );

    let workflows = stdout(&workflow(&store, &["workflows"]));
    assert!(
        workflows.contains("Halving") && workflows.contains("Standard"),
        "{workflows}"
    );
}

#[test]
fn draws_workflows_and_executions_from_the_recorded_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());

    let asl = stdout(&workflow(
        &store,
        &["diagram", "--workflow", "Halving", "--format", "asl"],
    ));
    let asl: serde_json::Value = serde_json::from_str(&asl).unwrap();
    assert_eq!(asl["StartAt"], "Check");

    // The failed execution: Check drawn as failed, Halve not reached.
    let mermaid = stdout(&workflow(
        &store,
        &["diagram", "--execution", "odd-3", "--format", "mermaid"],
    ));
    assert!(mermaid.contains("class Check failed"), "{mermaid}");
    assert!(!mermaid.contains("class Halve succeeded"), "{mermaid}");
    let svg = stdout(&workflow(&store, &["diagram", "--execution", "even-4"]));
    assert!(svg.starts_with("<svg"), "{svg}");

    let refused = workflow(
        &store,
        &["diagram", "--execution", "odd-3", "--format", "asl"],
    );
    assert_eq!(refused.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("use --workflow"));
}

#[test]
fn says_what_is_wrong_with_a_missing_store_or_execution() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}", dir.path().join("typo.db").display());
    let output = workflow(&missing, &["list"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no store at"));
    assert!(
        !dir.path().join("typo.db").exists(),
        "a typo created no store"
    );

    let store = store(dir.path());
    let output = workflow(&store, &["describe", "nobody"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("no execution with the id or name `nobody`"));
    let output = workflow(&store, &["diagram", "--workflow", "Nope"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("recorded: Halving"));
}

#[test]
fn purges_what_ended_long_enough_ago() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let kept = stdout(&workflow(&store, &["purge", "--older-than", "1d"]));
    assert!(kept.starts_with("purged 0 executions"), "{kept}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let purged = stdout(&workflow(&store, &["purge", "--older-than", "1s"]));
    assert!(purged.starts_with("purged 2 executions"), "{purged}");
    assert_eq!(stdout(&workflow(&store, &["list"])), "no executions\n");
}

#[test]
fn stop_and_redrive_are_requests_that_a_serving_runtime_carries_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());

    // Nobody serves yet: the request waits, and --wait says so.
    let output = workflow(&store, &["redrive", "odd-3", "--wait", "1s"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("is a runtime with workflow Halving serving?"));
    let asked = stdout(&workflow(&store, &["stop", "even-4"]));
    assert!(asked.starts_with("stop of even-4 requested"), "{asked}");

    // A runtime with the workflow serves: the pending redrive is carried out (odd-3 fails
    // again, being odd), the stop of an ended execution is refused.
    let _serving = support::serve(dir.path());
    let done = stdout(&workflow(&store, &["redrive", "odd-3", "--wait", "20s"]));
    assert_eq!(done, "redrive of odd-3: done\n");
    let refused = workflow(&store, &["stop", "even-4", "--wait", "20s"]);
    assert_eq!(refused.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Succeeded"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let history = stdout(&workflow(&store, &["history", "odd-3"]));
    assert!(history.contains("ExecutionRedriven"), "{history}");
}

#[test]
fn out_of_range_durations_are_refused_before_anything_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    for args in [
        &["purge", "--older-than", "300y"][..],
        &["purge", "--older-than", "584000000000y"],
        &["list", "--since", "584000000000y"],
        &["list", "--since", "300y"],
        &["redrive", "odd-3", "--wait", "584000000000y"],
    ] {
        let output = workflow(&store, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("out of range"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // Nothing was purged, and no request was left.
    let list = stdout(&workflow(&store, &["list"]));
    assert_eq!(list.lines().count(), 3, "{list}");
    let output = workflow(&store, &["redrive", "odd-3", "--wait", "1s"]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("was not carried out"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
