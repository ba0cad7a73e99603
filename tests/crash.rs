//! The crash test: a worker process running hundreds of durable executions is killed with
//! SIGKILL at random moments, again and again, and restarted each time. In the end every
//! execution must have ended, no task without a retrier may have run twice (by the ledger the
//! tasks write themselves), every history must be well formed, and every output right.
//!
//! The worker is this test binary run again with `CRASH_WORKER_STORE` set: `crash_worker`
//! below does nothing in a normal run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{ExecutionFilter, SqliteStore};
use workflow::RuntimeError;

mod support {
    pub(crate) mod outcomes;
}
use support::outcomes::{assert_well_formed, succeeded_or_lost};

const EXECUTIONS: u32 = 200;
const KILLS: u32 = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    number: u32,
}

#[derive(Debug, thiserror::Error, StepError)]
enum FlakyError {
    #[error("try again")]
    Busy,
}

/// Where the tasks note each run: one line per run, `execution state attempt`.
struct Ledger(Mutex<std::fs::File>);

impl Ledger {
    fn note(&self, ctx: &StepContext) {
        let mut file = self.0.lock().unwrap();
        writeln!(
            file,
            "{} {} {}",
            ctx.execution_id(),
            ctx.state(),
            ctx.attempt()
        )
        .unwrap();
        file.flush().unwrap();
    }
}

#[step]
async fn prepare(job: Job, ctx: StepContext, ledger: Res<Ledger>) -> Job {
    ledger.note(&ctx);
    tokio::time::sleep(Duration::from_millis(50)).await;
    job
}

/// Busy on every first attempt of an odd job.
#[step]
async fn flaky(job: Job, ctx: StepContext, ledger: Res<Ledger>) -> Result<Job, FlakyError> {
    ledger.note(&ctx);
    tokio::time::sleep(Duration::from_millis(50)).await;
    if job.number % 2 == 1 && ctx.attempt() == 1 {
        return Err(FlakyError::Busy);
    }
    Ok(job)
}

#[step]
async fn finish(job: Job, ctx: StepContext, ledger: Res<Ledger>) -> u32 {
    ledger.note(&ctx);
    tokio::time::sleep(Duration::from_millis(50)).await;
    job.number * 2 + 1
}

workflow! {
    /// Several tasks, a retrier (which also runs a lost `Flaky` again), and a wait.
    Crashy: Standard<Job, u32> {
        start Prepare;
        Prepare: task prepare -> Flaky;
        Flaky: task flaky -> Pause, retry FlakyError::Busy | States::TaskFailed { interval: 50ms, max_attempts: 3 };
        Pause: wait 8s -> Finish;
        Finish: task finish -> end;
    }
}

/// The worker: resumes what is unfinished, starts every job (idempotently), waits for all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_worker() {
    let Ok(store) = std::env::var("CRASH_WORKER_STORE") else {
        return;
    };
    let ledger = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::env::var("CRASH_WORKER_LEDGER").unwrap())
        .unwrap();
    let runtime = Runtime::builder()
        .store(SqliteStore::open(store).unwrap())
        .resource(Ledger(Mutex::new(ledger)))
        .register::<Crashy>()
        .build()
        .unwrap();
    runtime.recover().await.unwrap();
    let mut handles = Vec::new();
    for number in 0..EXECUTIONS {
        // In waves, so that kills find executions in every phase.
        if number % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        match runtime
            .start_named::<Crashy>(&format!("job-{number}"), Job { number })
            .await
        {
            Ok(handle) => handles.push(handle),
            Err(RuntimeError::ExecutionAlreadyExists { .. }) => {} // Ended before a crash.
            Err(other) => panic!("{other}"),
        }
    }
    for handle in handles {
        handle.result().await.unwrap().ok();
    }
}

/// A worker run, its output (a panic's message included) kept in `log`.
fn worker(store: &Path, ledger: &Path, log: &Path) -> Command {
    let output = std::fs::File::create(log).unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "crash_worker",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("CRASH_WORKER_STORE", store)
        .env("CRASH_WORKER_LEDGER", ledger)
        .stdout(Stdio::from(output.try_clone().unwrap()))
        .stderr(Stdio::from(output));
    command
}

/// Panics with the end of a worker's output when it exited by itself and not successfully.
fn assert_exited_well(status: std::process::ExitStatus, log: &Path, run: &str) {
    if !status.success() {
        let output = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = output.lines().collect();
        let end = lines[lines.len().saturating_sub(40)..].join("\n");
        panic!("the {run} worker run failed ({status}); the end of its output:\n{end}");
    }
}

#[test]
fn executions_survive_repeated_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let store: PathBuf = dir.path().join("crash.db");
    let ledger: PathBuf = dir.path().join("ledger.txt");
    let began = Instant::now();

    // Kill the worker at random moments, restarting it each time. The 8 s waits keep it busy
    // long enough for every kill to land while executions are still running.
    let log = dir.path().join("worker.log");
    let mut kills = 0;
    for _ in 0..KILLS * 3 {
        if kills == KILLS {
            break;
        }
        let mut child = worker(&store, &ledger, &log).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(fastrand::u64(100..600)));
        match child.try_wait().unwrap() {
            None => {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
                child.wait().unwrap();
            }
            // Ended before the kill: only by failing, as every run has 8 s waits to go.
            Some(status) => assert_exited_well(status, &log, "interrupted"),
        }
    }
    assert!(
        kills >= 10,
        "only {kills} kills landed while the worker was running"
    );
    // Then let it finish.
    let status = worker(&store, &ledger, &log).status().unwrap();
    assert_exited_well(status, &log, "last");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(verify(&store, &ledger, kills, began.elapsed()));
}

async fn verify(store: &Path, ledger: &Path, kills: u32, took: Duration) {
    let runtime = Runtime::builder()
        .store(SqliteStore::open(store).unwrap())
        .build()
        .unwrap();
    let records = runtime
        .list(ExecutionFilter::all().workflow("Crashy"))
        .await
        .unwrap();
    assert_eq!(records.len(), EXECUTIONS as usize);

    // The ledger: how many times each task of each execution ran.
    let text = std::fs::read_to_string(ledger).unwrap();
    let mut runs: HashMap<(String, String), u32> = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split(' ');
        let (execution, state) = (fields.next().unwrap(), fields.next().unwrap());
        *runs
            .entry((execution.to_owned(), state.to_owned()))
            .or_default() += 1;
    }
    let duplicates: Vec<_> = runs
        .iter()
        .filter(|((_, state), count)| state != "Flaky" && **count > 1)
        .collect();

    let mut succeeded = 0;
    let mut lost = 0;
    for record in &records {
        let job: Job = serde_json::from_value(record.input.clone()).unwrap();
        if succeeded_or_lost(record, serde_json::json!(job.number * 2 + 1)) {
            succeeded += 1;
        } else {
            lost += 1;
        }
        let events = runtime.history(&record.id, 0, usize::MAX).await.unwrap();
        assert_well_formed(&events, &record.name);
    }
    println!(
        "crash test: {} executions, {kills} SIGKILLs, {succeeded} succeeded, {lost} failed with a lost worker, {} task runs in the ledger, duplicate runs found = {}, in {:.1}s",
        records.len(),
        runs.values().sum::<u32>(),
        duplicates.len(),
        took.as_secs_f64()
    );
    assert!(
        duplicates.is_empty(),
        "tasks without a retrier ran twice: {duplicates:?}"
    );
}
