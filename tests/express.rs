//! Express workflows: synchronous and asynchronous starts, the log sink, the five-minute
//! limit, concurrency and backpressure, and at-least-once runs after a crash.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{ExecutionFilter, MemoryStore, SqliteStore};
use workflow::{
    Backpressure, EventType, ExecutionStatus, LogLevel, Logging, RuntimeError, VirtualClock,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reading {
    sensor: String,
    celsius: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Alert {
    sensor: String,
    level: String,
}

#[derive(Debug, thiserror::Error, StepError)]
enum ReadingError {
    #[error("{0} °C is not a temperature a sensor can read")]
    Impossible(f64),
}

#[step]
async fn check(reading: Reading) -> Result<Reading, ReadingError> {
    if reading.celsius < -273.15 {
        return Err(ReadingError::Impossible(reading.celsius));
    }
    Ok(reading)
}

#[step]
async fn classify(reading: Reading) -> Alert {
    let level = if reading.celsius > 80.0 {
        "hot"
    } else {
        "normal"
    };
    Alert {
        sensor: reading.sensor,
        level: level.into(),
    }
}

workflow! {
    /// Classifies a sensor reading.
    Classify: Express<Reading, Alert> {
        start Check;
        Check: task check -> Classify;
        Classify: task classify -> end;
    }
}

fn reading(sensor: &str, celsius: f64) -> Reading {
    Reading {
        sensor: sensor.into(),
        celsius,
    }
}

#[tokio::test]
async fn a_synchronous_start_returns_the_typed_output_or_the_typed_failure() {
    let runtime = Runtime::builder().register::<Classify>().build().unwrap();
    let alert = runtime
        .execute::<Classify>(reading("boiler", 91.0))
        .await
        .unwrap();
    assert_eq!(
        alert.output().map(|alert| alert.level.as_str()),
        Some("hot")
    );
    let impossible = runtime
        .execute::<Classify>(reading("broken", -300.0))
        .await
        .unwrap();
    let failure = impossible.failure().unwrap();
    assert_eq!(
        (failure.state(), failure.error()),
        (Some("Check"), "ReadingError.Impossible")
    );
    assert!(
        matches!(failure.downcast_ref::<ReadingError>(), Some(ReadingError::Impossible(t)) if *t == -300.0)
    );
}

/// The Express log as an application writes it to a JSON-lines file: `tracing-subscriber`'s
/// JSON layer, filtered to the target `workflow::express`, here into memory.
#[derive(Clone, Default)]
struct JsonLines(Arc<Mutex<Vec<u8>>>);

impl Write for JsonLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl JsonLines {
    /// Captures the Express log of this thread until the guard drops.
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        use tracing_subscriber::filter::Targets;
        use tracing_subscriber::prelude::*;
        let lines = JsonLines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_writer(move || writer.clone())
                .with_filter(Targets::new().with_target("workflow::express", tracing::Level::INFO)),
        );
        (lines, tracing::subscriber::set_default(subscriber))
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn an_asynchronous_execution_logs_its_events_and_stores_only_its_start_and_end() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _capturing) = JsonLines::capture();
    let runtime = Runtime::builder()
        .store(SqliteStore::open(dir.path().join("intake.db")).unwrap())
        .express_logging(Logging::new(LogLevel::All).include_payloads(true))
        .register::<Classify>()
        .build()
        .unwrap();
    let handle = runtime
        .start::<Classify>(reading("fridge", 4.0))
        .await
        .unwrap();
    let alert = handle.result().await.unwrap().unwrap();
    assert_eq!(alert.level, "normal");

    let lines: Vec<serde_json::Value> = log
        .lines()
        .into_iter()
        .filter(|line| line["workflow.execution.id"] == handle.id().as_str())
        .collect();
    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| line["workflow.event.type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"ExecutionStarted"));
    assert_eq!(kinds.last(), Some(&"ExecutionSucceeded"));
    assert!(kinds.contains(&"TaskSucceeded"));
    let started = lines
        .iter()
        .find(|line| line["workflow.event.type"] == "TaskStarted")
        .unwrap();
    assert_eq!(started["workflow.state.name"], "Check");
    assert_eq!(started["workflow.task.attempt"], 1);
    let ids: Vec<u64> = lines
        .iter()
        .map(|line| line["workflow.event.id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "every event, in order"
    );
    let output: serde_json::Value =
        serde_json::from_str(lines.last().unwrap()["workflow.output"].as_str().unwrap()).unwrap();
    assert_eq!(output["level"], "normal");
    assert!(lines.iter().all(|line| line["workflow.name"] == "Classify"
        && line["target"] == "workflow::express"
        && line["level"] == "INFO"));

    let stored = runtime.history(handle.id(), 0, 100).await.unwrap();
    let stored: Vec<EventType> = stored.iter().map(|event| event.kind).collect();
    assert_eq!(
        stored,
        [EventType::ExecutionStarted, EventType::ExecutionSucceeded],
        "no per-state history"
    );
}

#[tokio::test]
async fn the_log_level_decides_what_is_logged() {
    let (log, _capturing) = JsonLines::capture();
    let runtime = Runtime::builder()
        .express_logging(Logging::new(LogLevel::Error))
        .register::<Classify>()
        .build()
        .unwrap();
    runtime
        .execute::<Classify>(reading("ok", 20.0))
        .await
        .unwrap();
    runtime
        .execute::<Classify>(reading("broken", -500.0))
        .await
        .unwrap();
    let lines = log.lines();
    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| line["workflow.event.type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["TaskFailed", "ExecutionFailed"]);
    assert!(
        lines
            .iter()
            .all(|line| line.get("workflow.input").is_none()),
        "payloads are off"
    );
    assert!(lines.iter().all(|line| line["level"] == "ERROR"));
    assert_eq!(lines[1]["error.type"], "ReadingError.Impossible");
    assert_eq!(lines[0]["workflow.state.name"], "Check");
}

/// Stalls for ten minutes.
#[step]
async fn stall(reading: Reading) -> Alert {
    tokio::time::sleep(Duration::from_secs(600)).await;
    Alert {
        sensor: reading.sensor,
        level: "late".into(),
    }
}

workflow! {
    Stalled: Express<Reading, Alert> {
        start Stall;
        Stall: task stall -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn an_express_execution_times_out_after_five_minutes() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Stalled>()
        .build()
        .unwrap();
    let execution = runtime
        .execute::<Stalled>(reading("slow", 1.0))
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::TimedOut);
    assert_eq!(
        execution.failure().map(|failure| failure.error()),
        Some("States.Timeout")
    );
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .unwrap();
    assert_eq!(elapsed, Duration::from_secs(300));
    assert_eq!(
        execution.history().events().last().unwrap().kind,
        EventType::ExecutionTimedOut
    );
}

/// Lets one held step through per permit.
struct Gate(tokio::sync::Semaphore);

impl Gate {
    fn closed() -> Self {
        Gate(tokio::sync::Semaphore::new(0))
    }

    fn release(&self, steps: usize) {
        self.0.add_permits(steps);
    }
}

#[step]
async fn hold(reading: Reading, gate: Res<Gate>) -> Alert {
    gate.0.acquire().await.unwrap().forget();
    Alert {
        sensor: reading.sensor,
        level: "released".into(),
    }
}

workflow! {
    Held: Express<Reading, Alert> {
        start Hold;
        Hold: task hold -> end;
    }
}

#[tokio::test]
async fn the_concurrency_limit_refuses_or_waits() {
    let gate = Arc::new(Gate::closed());
    let refusing = Runtime::builder()
        .resource_arc(Arc::clone(&gate))
        .register::<Held>()
        .express_concurrency(2, Backpressure::Refuse)
        .build()
        .unwrap();
    let first = refusing.start::<Held>(reading("a", 1.0)).await.unwrap();
    let second = refusing.start::<Held>(reading("b", 1.0)).await.unwrap();
    let third = refusing.start::<Held>(reading("c", 1.0)).await;
    assert!(
        matches!(third, Err(RuntimeError::Overloaded { limit: 2 })),
        "{third:?}"
    );
    gate.release(2);
    first.result().await.unwrap().unwrap();
    second.result().await.unwrap().unwrap();
    let fourth = refusing
        .start::<Held>(reading("d", 1.0))
        .await
        .expect("room again");
    gate.release(1);
    fourth.result().await.unwrap().unwrap();

    let waiting = Runtime::builder()
        .resource_arc(Arc::clone(&gate))
        .register::<Held>()
        .express_concurrency(1, Backpressure::Wait)
        .build()
        .unwrap();
    let first = waiting.start::<Held>(reading("e", 1.0)).await.unwrap();
    let started = waiting.clone();
    let second = tokio::spawn(async move { started.start::<Held>(reading("f", 1.0)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !second.is_finished(),
        "the second start waits for a free slot"
    );
    gate.release(1);
    first.result().await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();
    gate.release(1);
    second.result().await.unwrap().unwrap();
}

#[tokio::test]
async fn the_same_workflow_code_runs_in_either_mode() {
    // `Classify` is Express; the same steps wired as Standard keep a full stored history.
    workflow! {
        ClassifyDurably: Standard<Reading, Alert> {
            start Check;
            Check: task check -> Classify;
            Classify: task classify -> end;
        }
    }
    let runtime = Runtime::builder()
        .store(MemoryStore::new())
        .register::<Classify>()
        .register::<ClassifyDurably>()
        .build()
        .unwrap();
    let fast = runtime.start::<Classify>(reading("x", 99.0)).await.unwrap();
    let durable = runtime
        .start::<ClassifyDurably>(reading("x", 99.0))
        .await
        .unwrap();
    assert_eq!(
        fast.result().await.unwrap(),
        durable.result().await.unwrap()
    );
    assert_eq!(runtime.history(fast.id(), 0, 100).await.unwrap().len(), 2);
    assert_eq!(
        runtime.history(durable.id(), 0, 100).await.unwrap().len(),
        12
    );
}

// --- At least once after a crash -------------------------------------------------------------

const BURST: u32 = 300;

/// Notes every run of an event, by execution name.
struct Tally(Mutex<std::fs::File>);

#[step]
async fn record_event(reading: Reading, ctx: StepContext, tally: Res<Tally>) -> Alert {
    writeln!(tally.0.lock().unwrap(), "begin {}", reading.sensor).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    writeln!(tally.0.lock().unwrap(), "done {}", reading.sensor).unwrap();
    Alert {
        sensor: reading.sensor,
        level: format!("attempt {}", ctx.attempt()),
    }
}

workflow! {
    Ingest: Express<Reading, Alert> {
        start Record;
        Record: task record_event -> end;
    }
}

/// The worker of the crash test below: accepts a burst of events and processes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_crash_worker() {
    let Ok(store) = std::env::var("EXPRESS_WORKER_STORE") else {
        return;
    };
    let tally = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::env::var("EXPRESS_WORKER_TALLY").unwrap())
        .unwrap();
    let runtime = Runtime::builder()
        .store(SqliteStore::open(store).unwrap())
        .resource(Tally(Mutex::new(tally)))
        .register::<Ingest>()
        .express_concurrency(50, Backpressure::Wait)
        .build()
        .unwrap();
    runtime.recover().await.unwrap();
    let mut handles = Vec::new();
    for number in 0..BURST {
        let name = format!("event-{number}");
        match runtime
            .start_named::<Ingest>(&name, reading(&name, 1.0))
            .await
        {
            Ok(handle) => handles.push(handle),
            Err(RuntimeError::ExecutionAlreadyExists { .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    for handle in handles {
        handle.result().await.unwrap().unwrap();
    }
}

#[test]
fn accepted_executions_run_at_least_once_across_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("intake.db");
    let tally = dir.path().join("tally.txt");
    let worker = || {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["express_crash_worker", "--exact", "--test-threads", "1"])
            .env("EXPRESS_WORKER_STORE", &store)
            .env("EXPRESS_WORKER_TALLY", &tally)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let mut kills = 0;
    for _ in 0..20 {
        if kills == 5 {
            break;
        }
        let mut child = worker().spawn().unwrap();
        std::thread::sleep(Duration::from_millis(fastrand::u64(50..400)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(worker().status().unwrap().success());

    let runs = std::fs::read_to_string(&tally).unwrap();
    let mut begun: HashMap<&str, u32> = HashMap::new();
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for line in runs.lines() {
        match line.split_once(' ') {
            Some(("begin", name)) => *begun.entry(name).or_default() += 1,
            Some(("done", name)) => *counts.entry(name).or_default() += 1,
            _ => panic!("a torn tally line: {line:?}"),
        }
    }
    let rerun = begun.values().filter(|count| **count > 1).count();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let records = runtime.block_on(async {
        let runtime = Runtime::builder()
            .store(SqliteStore::open(&store).unwrap())
            .build()
            .unwrap();
        runtime
            .list(ExecutionFilter::all().workflow("Ingest"))
            .await
            .unwrap()
    });
    assert_eq!(records.len(), BURST as usize);
    assert!(records
        .iter()
        .all(|record| record.status == ExecutionStatus::Succeeded));
    let missing = records
        .iter()
        .filter(|record| !counts.contains_key(record.name.as_str()))
        .count();
    let duplicated = counts.values().filter(|count| **count > 1).count();
    println!(
        "express crash test: {} accepted, {kills} SIGKILLs, all succeeded, {rerun} run again from the start after a crash, {} completed runs in all, {missing} never completed, {duplicated} completed more than once",
        records.len(),
        counts.values().sum::<u32>()
    );
    assert_eq!(missing, 0, "every accepted execution ran at least once");
}

/// Its execution's id, as a step sees it.
#[step]
async fn own_id((): (), cx: StepContext) -> String {
    cx.execution_id().to_string()
}

workflow! {
    WhoAmI: Express<(), String> {
        start Ask;
        Ask: task own_id -> end;
    }
}

/// `call` writes an execution's id out only when something asks for it: a step that does
/// gets a random version 4 UUID, another one each call.
#[tokio::test]
async fn a_called_execution_has_its_own_random_id_when_a_step_asks() {
    let runtime = Runtime::builder().register::<WhoAmI>().build().unwrap();
    let first = runtime.call::<WhoAmI>(()).await.unwrap().unwrap();
    let second = runtime.call::<WhoAmI>(()).await.unwrap().unwrap();
    assert_ne!(first, second);
    for id in [&first, &second] {
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
        assert_eq!(&id[14..15], "4", "version 4: {id}");
        assert!(
            id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "{id}"
        );
    }
}
