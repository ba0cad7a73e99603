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
    assert!(described.contains("version    1"), "{described}");
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
    let same = stdout(&workflow(
        &store,
        &["history", "odd-3", "--format", "table"],
    ));
    assert_eq!(same, table);
    let stored = stdout(&workflow(
        &store,
        &["history", "even-4", "--format", "json"],
    ));
    assert_eq!(stored, history);

    let workflows = stdout(&workflow(&store, &["workflows"]));
    assert!(
        workflows.contains("Halving") && workflows.contains("Standard"),
        "{workflows}"
    );
}

#[test]
fn prints_a_history_as_step_functions_gives_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());

    let text = stdout(&workflow(&store, &["history", "odd-3", "--format", "aws"]));
    // Pretty JSON, one field a line.
    assert!(text.starts_with("{\n  \"events\": [\n"), "{text}");
    let aws: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = aws["events"].as_array().unwrap();
    assert_eq!(events[0]["type"], "ExecutionStarted");
    assert_eq!(events[0]["id"], 1);
    assert_eq!(events[0]["previousEventId"], 0);
    assert!(events[0]["timestamp"].is_f64(), "{text}");
    assert_eq!(
        events[0]["executionStartedEventDetails"],
        serde_json::json!({ "input": "3", "inputDetails": { "truncated": false } })
    );
    let failed = events
        .iter()
        .find(|event| event["type"] == "TaskFailed")
        .unwrap();
    assert_eq!(
        failed["taskFailedEventDetails"],
        serde_json::json!({
            "error": "CheckError.Odd",
            "cause": "3 is odd",
            "resource": "Check",
            "resourceType": "rust"
        })
    );
    let last = events.last().unwrap();
    assert_eq!(last["type"], "ExecutionFailed");
    assert_eq!(
        last["executionFailedEventDetails"]["error"],
        "CheckError.Odd"
    );

    // One way of asking for the format at a time; unknown formats are refused.
    for args in [
        &["history", "odd-3", "--json", "--format", "aws"][..],
        &["history", "odd-3", "--format", "yaml"][..],
    ] {
        let refused = workflow(&store, args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
    }
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
    // Until the pending redrive has run: a second one asked meanwhile could be taken with it
    // and find odd-3 running again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let history = stdout(&workflow(&store, &["history", "odd-3"]));
        let described = stdout(&workflow(&store, &["describe", "odd-3"]));
        if history.contains("ExecutionRedriven") && described.contains("status     failed") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not redriven: {history}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
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

/// The reading commands, each with what its output must contain.
const READS: [(&[&str], &str); 5] = [
    (&["list"], "odd-3"),
    (&["describe", "odd-3"], "CheckError.Odd"),
    (&["history", "odd-3"], "TaskFailed"),
    (&["workflows"], "Halving"),
    (
        &["diagram", "--execution", "odd-3", "--format", "mermaid"],
        "class Check failed",
    ),
];

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn reading_commands_write_nothing_to_a_file_that_is_no_store() {
    let dir = tempfile::tempdir().unwrap();

    // An empty file: no schema is written into it.
    let empty = dir.path().join("empty.db");
    std::fs::File::create(&empty).unwrap();
    for (args, _) in READS {
        let output = workflow(&format!("sqlite://{}", empty.display()), args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr.contains("holds no workflow tables"),
            "{args:?}: {stderr}"
        );
        assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "{args:?}");
    }
    assert_eq!(files_in(dir.path()), ["empty.db"]);

    // A store of an older schema: read as it is, not upgraded.
    let old = dir.path().join("old.db");
    let connection = rusqlite::Connection::open(&old).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             INSERT INTO meta VALUES ('schema_version', 5);",
        )
        .unwrap();
    let output = workflow(&format!("sqlite://{}", old.display()), &["list"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("schema is version 5")
            && stderr.contains("a runtime of this version upgrades"),
        "{stderr}"
    );
    let version: i64 = connection
        .query_row("SELECT value FROM meta", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 5, "the reading command upgraded the store");
}

#[test]
fn reading_commands_do_not_wait_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    // A writer holding the write lock, with a change it has not committed.
    let writer = rusqlite::Connection::open(dir.path().join("executions.db")).unwrap();
    writer
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM requests;")
        .unwrap();
    let began = std::time::Instant::now();
    for (args, expected) in READS {
        let output = stdout(&workflow(&store, args));
        assert!(output.contains(expected), "{args:?}: {output}");
    }
    let took = began.elapsed();
    println!(
        "reads under a writer's lock: {} commands in {took:?}",
        READS.len()
    );
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    writer.execute_batch("ROLLBACK").unwrap();
}

/// A command prefix that runs a program as an unprivileged user, when this test runs as root
/// (for which file modes do not stop writes); `None` with the reason when there is none.
fn unprivileged(probe_dir: &std::path::Path) -> Result<Vec<String>, String> {
    use std::os::unix::fs::PermissionsExt;
    let probe = probe_dir.join("probe");
    std::fs::write(&probe, "").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o444)).unwrap();
    let privileged = std::fs::OpenOptions::new().write(true).open(&probe).is_ok();
    std::fs::remove_file(&probe).unwrap();
    if !privileged {
        return Ok(Vec::new());
    }
    let prefix: Vec<String> = [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--",
    ]
    .map(str::to_owned)
    .to_vec();
    match Command::new(&prefix[0]).args(&prefix[1..]).arg("true").status() {
        Ok(status) if status.success() => Ok(prefix),
        _ => Err("running as root, where file modes do not stop writes, and `setpriv` cannot run a command as nobody".to_owned()),
    }
}

#[test]
fn reading_commands_read_a_store_they_cannot_write() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let prefix = match unprivileged(dir.path()) {
        Ok(prefix) => prefix,
        Err(reason) => {
            println!("read-only store: skipped ({reason})");
            return;
        }
    };
    let before = files_in(dir.path());
    let mode = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    // Neither the file nor its directory (where SQLite would put `-wal` and `-shm`) writable.
    mode(&dir.path().join("executions.db"), 0o444);
    mode(dir.path(), 0o555);
    let reads = || {
        let mut outcomes = Vec::new();
        for (args, expected) in READS {
            let mut command = match prefix.split_first() {
                Some((program, args)) => {
                    let mut command = Command::new(program);
                    command.args(args).arg(env!("CARGO_BIN_EXE_workflow"));
                    command
                }
                None => Command::new(env!("CARGO_BIN_EXE_workflow")),
            };
            let output = command
                .arg("--store")
                .arg(&store)
                .args(args)
                .output()
                .unwrap();
            outcomes.push((args, expected, output));
        }
        outcomes
    };
    // No writer: no `-wal` or `-shm` file, and none can be created.
    let mut outcomes = reads();
    let files = files_in(dir.path());
    // A writer (root, whom the modes do not stop) holding the store open with a change it has
    // not committed: its `-wal` and `-shm` files are there, and readers may not write them.
    if !prefix.is_empty() {
        let writer = rusqlite::Connection::open(dir.path().join("executions.db")).unwrap();
        writer
            .execute_batch("BEGIN IMMEDIATE; DELETE FROM requests;")
            .unwrap();
        outcomes.extend(reads());
        writer.execute_batch("ROLLBACK").unwrap();
    }
    mode(dir.path(), 0o755);
    for (args, expected, output) in outcomes {
        assert!(
            stdout(&output).contains(expected),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    assert_eq!(files, before, "files were added or removed");
}

/// A corrupted row among good ones is listed and described as unreadable; the good ones are
/// listed as ever, and `list` succeeds.
#[test]
fn an_unreadable_execution_is_listed_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let deep = format!("{}0{}", "[".repeat(130), "]".repeat(130));
    let connection = rusqlite::Connection::open(dir.path().join("executions.db")).unwrap();
    connection
        .execute(
            "UPDATE executions SET input = ?1 WHERE name = 'odd-3'",
            [deep.as_str()],
        )
        .unwrap();
    drop(connection);

    let list = stdout(&workflow(&store, &["list"]));
    assert!(
        list.contains("even-4") && list.contains("succeeded"),
        "{list}"
    );
    assert!(
        list.contains("odd-3") && list.contains("unreadable"),
        "{list}"
    );
    assert!(list.contains("recursion limit exceeded"), "{list}");
    let json = stdout(&workflow(&store, &["list", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let odd = json
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["name"] == "odd-3")
        .unwrap();
    assert!(
        odd["unreadable"].as_str().unwrap().contains("input"),
        "{odd}"
    );
    let described = stdout(&workflow(&store, &["describe", "odd-3"]));
    assert!(described.contains("status     unreadable"), "{described}");
    assert!(
        described.contains("unreadable its input does not read"),
        "{described}"
    );
}

mod deploy {
    use workflow::prelude::*;

    workflow! {
        /// Holds a day.
        pub(crate) Parked: Standard<u32, u32> {
            start Hold;
            Hold: wait 1d -> Done;
            Done: succeed;
        }
    }

    pub(crate) mod renamed {
        use workflow::prelude::*;

        workflow! {
            /// The same workflow and version, its wait renamed.
            pub(crate) Parked: Standard<u32, u32> {
                start Delay;
                Delay: wait 1d -> Done;
                Done: succeed;
            }
        }
    }
}

#[test]
fn check_deploy_exits_one_naming_the_states_a_binary_could_not_resume() {
    use workflow::prelude::*;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("executions.db");
    let store = format!("sqlite://{}", path.display());
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (same, renamed) = tokio.block_on(async {
        let runtime = Runtime::builder()
            .store(workflow::store::SqliteStore::open(&path).unwrap())
            .register::<deploy::Parked>()
            .build()
            .unwrap();
        for value in [1, 2] {
            let handle = runtime.start::<deploy::Parked>(value).await.unwrap();
            // Until it waits in Hold.
            while !runtime
                .history(handle.id(), 0, 10)
                .await
                .unwrap()
                .iter()
                .any(|event| event.kind == workflow::EventType::WaitStateEntered)
            {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
        let same = runtime.export_definitions();
        runtime.shutdown();
        let renamed = Runtime::builder()
            .register::<deploy::renamed::Parked>()
            .build()
            .unwrap()
            .export_definitions();
        (same, renamed)
    });
    let same_file = dir.path().join("same.json");
    std::fs::write(&same_file, same).unwrap();
    let renamed_file = dir.path().join("renamed.json");
    std::fs::write(&renamed_file, renamed).unwrap();

    let fine = workflow(
        &store,
        &["check-deploy", "--definitions", same_file.to_str().unwrap()],
    );
    let text = stdout(&fine);
    assert!(
        text.contains("Parked version 1: 2 running, resumable here"),
        "{text}"
    );
    assert!(text.contains("in states: Hold 2"), "{text}");

    let refused = workflow(
        &store,
        &[
            "check-deploy",
            "--definitions",
            renamed_file.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    let text = String::from_utf8(refused.stdout).unwrap();
    assert!(
        text.contains("2 execution(s) went through state `Hold`, which the registered version 1 no longer declares"),
        "{text}"
    );
}
