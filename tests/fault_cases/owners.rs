//! Several processes on one SQLite file: each execution has one owner at a time. Two
//! processes recovering the same file after a crash share the executions without touching
//! each other's; a process started while the old one still runs (a rolling restart) leaves
//! the old one's executions alone, and takes them over once it has gone, by itself.
//!
//! The processes are this test binary run again with `OWNERS_ROLE` set: `owner_process` below
//! does nothing in a normal run.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use workflow::prelude::*;
use workflow::store::{ExecutionFilter, SqliteStore};
use workflow::{ExecutionStatus, RuntimeError};

const EXECUTIONS: u32 = 20;

/// Where the tasks note each run: `pid execution state`.
struct Ledger(Mutex<std::fs::File>);

#[step]
async fn shift(number: u32, ctx: StepContext, ledger: Res<Ledger>) -> u32 {
    {
        let mut file = ledger.0.lock().unwrap();
        writeln!(
            file,
            "{} {} {}",
            std::process::id(),
            ctx.execution_id(),
            ctx.state()
        )
        .unwrap();
        file.flush().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    number + 1
}

workflow! {
    /// Three shifts of work; a shift lost with its process is worked again, once.
    Shifts: Standard<u32, u32> {
        start First;
        First: task shift -> Second, retry States::TaskFailed { max_attempts: 1, interval: 100ms };
        Second: task shift -> Third, retry States::TaskFailed { max_attempts: 1, interval: 100ms };
        Third: task shift -> end, retry States::TaskFailed { max_attempts: 1, interval: 100ms };
    }
}

/// A process: `start` starts the executions and waits for them; `recover` recovers, prints
/// how many it resumed, and waits until every execution has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_process() {
    let Ok(role) = std::env::var("OWNERS_ROLE") else {
        return;
    };
    let ledger = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::env::var("OWNERS_LEDGER").unwrap())
        .unwrap();
    let runtime = Runtime::builder()
        .store(SqliteStore::open(std::env::var("OWNERS_STORE").unwrap()).unwrap())
        .resource(Ledger(Mutex::new(ledger)))
        .register::<Shifts>()
        .build()
        .unwrap();
    if role == "start" {
        let mut handles = Vec::new();
        for number in 0..EXECUTIONS {
            // In waves, so that a kill finds executions in every shift.
            tokio::time::sleep(Duration::from_millis(50)).await;
            match runtime
                .start_named::<Shifts>(&format!("shift-{number}"), number)
                .await
            {
                Ok(handle) => handles.push(handle),
                Err(RuntimeError::ExecutionAlreadyExists { .. }) => {}
                Err(other) => panic!("{other}"),
            }
        }
        for handle in handles {
            handle.result().await.unwrap().ok();
        }
        return;
    }
    let recovery = runtime.recover().await.unwrap();
    println!("resumed {}", recovery.resumed.len());
    std::io::stdout().flush().unwrap();
    let began = Instant::now();
    loop {
        let running = runtime
            .list(ExecutionFilter::all().status(ExecutionStatus::Running))
            .await
            .unwrap();
        if running.is_empty() {
            return;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "{} executions still running after a minute",
            running.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn process(role: &str, store: &Path, ledger: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "owners::owner_process",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("OWNERS_ROLE", role)
        .env("OWNERS_STORE", store)
        .env("OWNERS_LEDGER", ledger)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// How many executions a `recover` process said it resumed.
fn resumed(child: Child) -> usize {
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "a process failed: {}",
        output.status
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.split("resumed ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no count in {text:?}"))
}

/// Waits until the first task of every execution has started, as the ledger says: on a busy
/// machine the starting process takes longer than its waves would.
async fn every_execution_started(ledger: &Path) {
    let began = Instant::now();
    loop {
        let started = std::fs::read_to_string(ledger)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.ends_with(" First"))
            .count();
        if started >= EXECUTIONS as usize {
            return;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "only {started} executions started in a minute"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The ledger: which processes ran each task of each execution.
fn runs(ledger: &Path) -> HashMap<(String, String), Vec<u32>> {
    let mut runs: HashMap<(String, String), Vec<u32>> = HashMap::new();
    for line in std::fs::read_to_string(ledger).unwrap().lines() {
        let mut fields = line.split(' ');
        let pid: u32 = fields.next().unwrap().parse().unwrap();
        let (execution, state) = (fields.next().unwrap(), fields.next().unwrap());
        runs.entry((execution.to_owned(), state.to_owned()))
            .or_default()
            .push(pid);
    }
    runs
}

/// Every execution ended with its output and a well-formed history (never `States.Runtime`
/// from two writers); no task ran twice, but one lost with the killed process `killed` and
/// run again by its retrier. How many tasks were run again so.
async fn check_ended(store: &Path, ledger: &Path, killed: u32) -> usize {
    let runtime = Runtime::builder()
        .store(SqliteStore::open(store).unwrap())
        .build()
        .unwrap();
    let records = runtime
        .list(ExecutionFilter::all().workflow("Shifts"))
        .await
        .unwrap();
    assert_eq!(records.len(), EXECUTIONS as usize);
    for record in &records {
        assert_eq!(record.status, ExecutionStatus::Succeeded, "{record:?}");
        assert_eq!(
            record.output,
            Some(serde_json::json!(record.input.as_u64().unwrap() + 3))
        );
        let events = runtime.history(&record.id, 0, usize::MAX).await.unwrap();
        crate::support::outcomes::assert_well_formed(&events, &record.name);
    }
    let mut again = 0;
    for (task, pids) in runs(ledger) {
        match pids.as_slice() {
            [_] => {}
            [first, second] if *first == killed && *second != killed => again += 1,
            _ => panic!("{task:?} ran in processes {pids:?}"),
        }
    }
    again
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_recovering_one_file_share_it_without_corrupting_a_history() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ledger) = (dir.path().join("shifts.db"), dir.path().join("ledger.txt"));
    let mut first = process("start", &store, &ledger);
    // Once every execution has started (in waves over a second): they are in every shift.
    every_execution_started(&ledger).await;
    let killed = first.id();
    first.kill().unwrap(); // SIGKILL, mid-task
    first.wait().unwrap();

    let (a, b) = (
        process("recover", &store, &ledger),
        process("recover", &store, &ledger),
    );
    let (a, b) = (resumed(a), resumed(b));
    let again = check_ended(&store, &ledger, killed).await;
    println!(
        "owners: 2 processes recovered one file after a SIGKILL: they resumed {a} and {b} executions; all {EXECUTIONS} succeeded, 0 histories corrupted, {again} tasks lost with the killed process ran again by their retrier, 0 other tasks ran twice"
    );
    assert!(
        a + b <= EXECUTIONS as usize,
        "an execution was resumed twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_leaves_the_old_process_alone_and_takes_over_when_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, ledger) = (dir.path().join("shifts.db"), dir.path().join("ledger.txt"));
    let mut old = process("start", &store, &ledger);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The new process starts while the old one runs: it resumes nothing of the old one's.
    let new = process("recover", &store, &ledger);
    every_execution_started(&ledger).await;
    let killed = old.id();
    let killed_at = Instant::now();
    old.kill().unwrap(); // The old one goes (as abruptly as it can).
    old.wait().unwrap();
    let resumed_at_start = resumed(new);
    let took = killed_at.elapsed();
    let again = check_ended(&store, &ledger, killed).await;
    let by_new = runs(&ledger)
        .values()
        .filter(|pids| pids.iter().any(|pid| *pid != killed))
        .count();
    println!(
        "owners: a rolling restart: the new process resumed {resumed_at_start} executions at its start, while the old one ran; after the old one went it took over by itself and ran {by_new} tasks, all done {:.1}s later; all {EXECUTIONS} succeeded, {again} tasks lost with the old process ran again by their retrier, 0 other tasks ran twice",
        took.as_secs_f64()
    );
    assert_eq!(
        resumed_at_start, 0,
        "a live process's executions were taken"
    );
    assert!(by_new > 0, "the new process took nothing over");
}
