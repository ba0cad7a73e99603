//! Three worker processes share one database (PostgreSQL, and a SQLite file) and run 300
//! executions; one of them is SIGKILLed mid-run. Every execution must end, the executions of the dead worker must be
//! taken over by the others once its leases run out, no task without a retrier may have run
//! twice (by the ledger the tasks write themselves), and every history must be well formed.
//!
//! A worker is this test binary run again with `FLEET_WORKER` set: `fleet_worker` below does
//! nothing in a normal run. Without `WORKFLOW_TEST_POSTGRES_URL` the PostgreSQL run is skipped,
//! saying so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{ExecutionFilter, PostgresStore, Store};
use workflow::ExecutionStatus;

mod support {
    pub(crate) mod outcomes;
}
use support::outcomes::{assert_well_formed, succeeded_or_lost};

const EXECUTIONS: u32 = 300;
const WORKERS: usize = 3;
const LEASE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    number: u32,
}

impl Job {
    /// How long each of its steps takes: 20 to 155 ms, so that executions drift apart and a
    /// kill finds them in every state rather than in lockstep.
    fn busy(&self) -> Duration {
        Duration::from_millis(20 + u64::from(self.number % 10) * 15)
    }
}

/// Where the tasks note each run: one line per run, `execution state attempt worker`.
struct Ledger {
    file: Mutex<std::fs::File>,
    worker: String,
}

impl Ledger {
    fn note(&self, ctx: &StepContext) {
        let mut file = self.file.lock().unwrap();
        // One write per line: the workers append to the same file.
        let line = format!(
            "{} {} {} {}\n",
            ctx.execution_id(),
            ctx.state(),
            ctx.attempt(),
            self.worker
        );
        file.write_all(line.as_bytes()).unwrap();
    }
}

#[step]
async fn prepare(job: Job, ctx: StepContext, ledger: Res<Ledger>) -> Job {
    ledger.note(&ctx);
    tokio::time::sleep(job.busy()).await;
    job
}

#[step]
async fn charge(job: Job, ctx: StepContext, ledger: Res<Ledger>) -> Job {
    ledger.note(&ctx);
    tokio::time::sleep(job.busy()).await;
    job
}

#[step]
async fn finish(job: Job, ctx: StepContext, ledger: Res<Ledger>) -> u32 {
    ledger.note(&ctx);
    tokio::time::sleep(job.busy()).await;
    job.number * 2 + 1
}

workflow! {
    /// Three tasks and a wait; only `Charge` is retried when its worker is lost.
    Fleet: Standard<Job, u32> {
        start Prepare;
        Prepare: task prepare -> Charge;
        Charge: task charge -> Pause, retry States::TaskFailed { interval: 100ms, max_attempts: 3 };
        Pause: wait 1s -> Finish;
        Finish: task finish -> end;
    }
}

/// A worker: serves until every execution of `Fleet` has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_worker() {
    let Ok(name) = std::env::var("FLEET_WORKER") else {
        return;
    };
    let url = std::env::var("FLEET_URL").unwrap();
    let schema = std::env::var("FLEET_SCHEMA").ok();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::env::var("FLEET_LEDGER").unwrap())
        .unwrap();
    let runtime = Runtime::builder()
        .store_arc(open(&url, schema.as_deref()).await)
        .resource(Ledger {
            file: Mutex::new(file),
            worker: name.clone(),
        })
        .register::<Fleet>()
        .lease(LEASE)
        .worker_name(&name)
        .claim_every(Duration::from_millis(100), 40)
        .build()
        .unwrap();
    let _worker = runtime.serve().unwrap();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let running = runtime
            .list(ExecutionFilter::all().status(ExecutionStatus::Running))
            .await
            .unwrap();
        if running.is_empty() {
            break;
        }
    }
}

/// The store `url` names; on PostgreSQL, in `schema`.
async fn open(url: &str, schema: Option<&str>) -> Arc<dyn Store> {
    match schema {
        Some(schema) => Arc::new(PostgresStore::connect_in_schema(url, schema).await.unwrap()),
        None => workflow::store::open(url).await.unwrap(),
    }
}

fn spawn_worker(name: &str, url: &str, schema: Option<&str>, ledger: &Path) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "fleet_worker",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("FLEET_WORKER", name)
        .env("FLEET_URL", url)
        .env("FLEET_LEDGER", ledger)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(schema) = schema {
        command.env("FLEET_SCHEMA", schema);
    }
    command.spawn().unwrap()
}

#[test]
fn three_workers_on_postgres_one_killed_run_every_execution_once() {
    let Ok(url) = std::env::var("WORKFLOW_TEST_POSTGRES_URL") else {
        let _ = std::io::stderr().write_all(
            b"postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL to run the worker processes test)\n",
        );
        return;
    };
    let schema = format!("fleet_{}", fastrand::u64(..));
    run_fleet("PostgreSQL", &url, Some(&schema));
}

#[test]
fn three_workers_on_sqlite_one_killed_run_every_execution_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fleet.db").display());
    run_fleet("a SQLite file", &url, None);
}

fn run_fleet(label: &str, url: &str, schema: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.txt");
    std::fs::File::create(&ledger).unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let began = Instant::now();

    // A client submits every execution for the workers to claim.
    let client = tokio.block_on(async {
        let client = Runtime::builder()
            .store_arc(open(url, schema).await)
            .resource(Ledger {
                file: Mutex::new(tempfile::tempfile().unwrap()),
                worker: "client".to_owned(),
            })
            .register::<Fleet>()
            .build()
            .unwrap();
        for number in 0..EXECUTIONS {
            client
                .submit::<Fleet>(&format!("job-{number}"), Job { number })
                .await
                .unwrap();
        }
        client
    });

    let mut workers: Vec<Child> = (1..=WORKERS)
        .map(|n| spawn_worker(&format!("worker-{n}"), url, schema, &ledger))
        .collect();
    // Kill one mid-run: once a third to two thirds of the task runs are in the ledger.
    let kill_at = EXECUTIONS as usize + fastrand::usize(..EXECUTIONS as usize);
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed_after = loop {
        let lines = std::fs::read_to_string(&ledger).unwrap().lines().count();
        if lines >= kill_at {
            break lines;
        }
        assert!(
            Instant::now() < deadline,
            "the workers made too little progress: {lines} task runs in 120 s, {kill_at} awaited"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    workers[1].kill().unwrap(); // SIGKILL
    workers[1].wait().unwrap();
    for (n, worker) in workers.iter_mut().enumerate() {
        if n != 1 {
            let status = worker.wait().unwrap();
            assert!(status.success(), "worker-{} failed: {status}", n + 1);
        }
    }
    let took = began.elapsed();
    tokio.block_on(verify(label, &client, &ledger, killed_after, took));
}

async fn verify(
    label: &str,
    runtime: &Runtime,
    ledger: &Path,
    killed_after: usize,
    took: Duration,
) {
    let records = runtime
        .list(ExecutionFilter::all().workflow("Fleet"))
        .await
        .unwrap();
    assert_eq!(records.len(), EXECUTIONS as usize);

    // The ledger: each task run of each execution, and the workers that ran its tasks.
    let text = std::fs::read_to_string(ledger).unwrap();
    let mut runs: HashMap<(String, String), u32> = HashMap::new();
    let mut workers_of: HashMap<String, HashSet<String>> = HashMap::new();
    let mut per_worker: HashMap<String, u32> = HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [execution, state, _attempt, worker] = fields[..] else {
            panic!("a torn ledger line: {line:?}");
        };
        *runs
            .entry((execution.to_owned(), state.to_owned()))
            .or_default() += 1;
        workers_of
            .entry(execution.to_owned())
            .or_default()
            .insert(worker.to_owned());
        *per_worker.entry(worker.to_owned()).or_default() += 1;
    }
    let duplicates: Vec<_> = runs
        .iter()
        .filter(|((_, state), count)| state != "Charge" && **count > 1)
        .collect();
    let retried = runs
        .iter()
        .filter(|((_, state), count)| state == "Charge" && **count > 1)
        .count();
    let continued = workers_of
        .values()
        .filter(|workers| workers.contains("worker-2") && workers.len() > 1)
        .count();

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
    let mut shares: Vec<String> = per_worker
        .iter()
        .map(|(worker, count)| format!("{worker} {count}"))
        .collect();
    shares.sort();
    println!(
        "worker processes test: {} executions on {WORKERS} workers sharing {label}, worker-2 SIGKILLed after {killed_after} task runs, {succeeded} succeeded, {lost} failed with a lost worker, {continued} of worker-2's continued on another worker, {retried} lost Charge runs repeated by its retrier, {} task runs in the ledger ({}), duplicate runs found = {}, in {:.1}s",
        records.len(),
        runs.values().sum::<u32>(),
        shares.join(", "),
        duplicates.len(),
        took.as_secs_f64()
    );
    assert!(
        duplicates.is_empty(),
        "tasks without a retrier ran twice: {duplicates:?}"
    );
    // Only another worker, replaying, fails an execution for a lost worker: both are takeovers.
    assert!(
        continued + lost > 0,
        "no execution of worker-2 was taken over"
    );
    assert!(
        per_worker.len() == WORKERS,
        "every worker ran tasks: {per_worker:?}"
    );
}
