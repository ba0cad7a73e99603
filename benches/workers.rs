//! Throughput of 1, 2 and 4 worker processes sharing one database: executions of a workflow
//! of 10 no-op task states are submitted first, then the workers are started and the clock
//! runs until every execution has ended. Every event is committed durably (SQLite:
//! `synchronous = FULL`; PostgreSQL: its default `synchronous_commit = on`).
//!
//! ```text
//! WORKFLOW_BENCH_POSTGRES_URL=$(scripts/postgres-server start) cargo bench --bench workers
//! ```
//!
//! Without `WORKFLOW_BENCH_POSTGRES_URL` (or `WORKFLOW_TEST_POSTGRES_URL`) only the SQLite
//! file is measured. `WORKFLOW_BENCH_EXECUTIONS` sets the number of executions (2,000).
//! A worker is this binary run again with `WORKERS_BENCH_WORKER` set.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // A benchmark binary.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use workflow::prelude::*;
use workflow::store::{ExecutionFilter, PostgresStore, Store};
use workflow::ExecutionStatus;

#[path = "support/ten.rs"]
mod ten;
use ten::Ten;

/// State transitions an execution makes: into each of its 10 states.
const TRANSITIONS: u64 = 10;

async fn open(url: &str, schema: Option<&str>) -> Arc<dyn Store> {
    match schema {
        Some(schema) => Arc::new(PostgresStore::connect_in_schema(url, schema).await.unwrap()),
        None => workflow::store::open(url).await.unwrap(),
    }
}

/// A worker process: serves until it is killed.
async fn worker(name: &str) {
    let url = std::env::var("WORKERS_BENCH_URL").unwrap();
    let schema = std::env::var("WORKERS_BENCH_SCHEMA").ok();
    let runtime = Runtime::builder()
        .store_arc(open(&url, schema.as_deref()).await)
        .register::<Ten>()
        .lease(Duration::from_secs(30))
        .worker_name(name)
        .claim_every(Duration::from_millis(20), 1_000)
        .build()
        .unwrap();
    let _serving = runtime.serve().unwrap();
    std::future::pending::<()>().await;
}

fn spawn_worker(name: &str, url: &str, schema: Option<&str>) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .env("WORKERS_BENCH_WORKER", name)
        .env("WORKERS_BENCH_URL", url)
        .stdout(Stdio::null());
    if let Some(schema) = schema {
        command.env("WORKERS_BENCH_SCHEMA", schema);
    }
    command.spawn().unwrap()
}

/// Submits `executions`, runs them on `workers` processes; the seconds until all ended.
async fn measure(url: &str, schema: Option<&str>, workers: usize, executions: u64) -> f64 {
    let client = Runtime::builder()
        .store_arc(open(url, schema).await)
        .register::<Ten>()
        .build()
        .unwrap();
    let submits = (0..executions).map(|n| {
        let client = client.clone();
        async move { client.submit::<Ten>(&format!("run-{n}"), n).await.unwrap() }
    });
    futures_util::future::join_all(submits).await;

    let began = Instant::now();
    let mut children: Vec<Child> = (0..workers)
        .map(|n| spawn_worker(&format!("worker-{n}"), url, schema))
        .collect();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let running = client
            .list(
                ExecutionFilter::all()
                    .status(ExecutionStatus::Running)
                    .limit(1),
            )
            .await
            .unwrap();
        if running.is_empty() {
            break;
        }
    }
    let took = began.elapsed().as_secs_f64();
    for child in &mut children {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let succeeded = client
        .list(ExecutionFilter::all().status(ExecutionStatus::Succeeded))
        .await
        .unwrap()
        .len() as u64;
    assert_eq!(succeeded, executions, "every execution succeeded");
    took
}

fn main() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Ok(name) = std::env::var("WORKERS_BENCH_WORKER") {
        tokio.block_on(worker(&name));
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    let executions: u64 = std::env::var("WORKFLOW_BENCH_EXECUTIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2_000);
    let postgres = std::env::var("WORKFLOW_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("WORKFLOW_TEST_POSTGRES_URL"))
        .ok();
    let dir = tempfile::tempdir().unwrap();

    println!(
        "{executions} executions × {TRANSITIONS} task states, submitted first, then run by the workers"
    );
    println!();
    println!("| store | workers | executions/s | transitions/s | wall time |");
    println!("|---|---:|---:|---:|---:|");
    for workers in [1, 2, 4] {
        let mut stores: Vec<(&str, String, Option<String>)> = vec![(
            "SQLite file",
            format!(
                "sqlite://{}",
                dir.path().join(format!("w{workers}.db")).display()
            ),
            None,
        )];
        if let Some(url) = &postgres {
            let schema = format!("bench_workers_{workers}_{}", fastrand::u32(..));
            stores.push(("PostgreSQL", url.clone(), Some(schema)));
        }
        for (label, url, schema) in stores {
            let took = tokio.block_on(measure(&url, schema.as_deref(), workers, executions));
            let per_second = executions as f64 / took;
            println!(
                "| {label} | {workers} | {per_second:.0} | {:.0} | {took:.2} s |",
                per_second * TRANSITIONS as f64
            );
        }
    }
    if postgres.is_none() {
        println!();
        println!("PostgreSQL: skipped (set WORKFLOW_BENCH_POSTGRES_URL to measure it too)");
    }
}
