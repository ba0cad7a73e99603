//! Scaling: the cost per step of one execution of 10, 100, 1,000 and 10,000 steps (a loop of
//! a task and a Choice), in memory with its full history and durably on a SQLite file; it must
//! stay flat (nothing quadratic in history or recording). Then the resident memory of 100,000
//! Standard executions in a one-day Wait: kept running in memory, parked out of memory
//! (`RuntimeBuilder::park_after`) on the memory store, and parked on a SQLite file. Each
//! memory figure is taken in a process of its own (this binary, re-executed), so that one
//! run's freed memory does not hide the next one's.
//!
//! ```text
//! cargo bench --bench scaling
//! ```
//!
//! `WORKFLOW_BENCH_PARKED` sets the number of waiting executions (100,000).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // A benchmark binary.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{MemoryStore, SqliteStore};

/// A counter and how far it goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Count {
    value: u64,
    limit: u64,
}

#[step]
async fn step_once(count: Count) -> Count {
    Count {
        value: count.value + 1,
        ..count
    }
}

workflow! {
    /// Steps until the counter reaches its limit.
    Steps: Standard<Count, Count> {
        start Step;
        Step: task step_once -> Again;
        Again: choice {
            |count: &Count| count.value < count.limit => Step,
            _ => Done,
        };
        Done: succeed;
    }
}

workflow! {
    /// Waits a day.
    Parked: Standard<u64, u64> {
        start Pause;
        Pause: wait 24h -> Done;
        Done: succeed;
    }
}

/// Events an iteration records: a task state (5) and a Choice (2).
const EVENTS_PER_STEP: usize = 7;

fn runtime(store: impl workflow::store::Store, steps: u64) -> Runtime {
    Runtime::builder()
        .store(store)
        .history_limit(steps as usize * EVENTS_PER_STEP + 10)
        .register::<Steps>()
        .register::<Parked>()
        .build()
        .unwrap()
}

/// Resident memory of this process, in MiB (Linux).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    if let Ok(setup) = std::env::var(WAITING) {
        return waiting(&setup);
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    println!("One execution of N steps (a task and a Choice each)");
    println!();
    println!("| steps | in memory, µs/step | SQLite file, µs/step |");
    println!("|---:|---:|---:|");
    for steps in [10u64, 100, 1_000, 10_000] {
        let count = Count {
            value: 0,
            limit: steps,
        };
        let memory = runtime(MemoryStore::new(), steps);
        let began = Instant::now();
        let done = tokio
            .block_on(memory.execute::<Steps>(count.clone()))
            .unwrap();
        let in_memory = began.elapsed();
        assert_eq!(done.output().unwrap().value, steps);

        let path = dir.path().join(format!("steps-{steps}.db"));
        let durable = runtime(SqliteStore::open(&path).unwrap(), steps);
        let began = Instant::now();
        tokio.block_on(async {
            let handle = durable.start::<Steps>(count).await.unwrap();
            assert_eq!(handle.result().await.unwrap().unwrap().value, steps);
        });
        let on_disk = began.elapsed();
        let per_step = |total: Duration| total.as_secs_f64() * 1e6 / steps as f64;
        println!(
            "| {steps} | {:.1} | {:.1} |",
            per_step(in_memory),
            per_step(on_disk)
        );
    }

    println!();
    for setup in ["running", "parked", "parked-sqlite"] {
        let measured = std::process::Command::new(std::env::current_exe().unwrap())
            .env(WAITING, setup)
            .output()
            .unwrap();
        assert!(measured.status.success(), "{measured:?}");
        print!("{}", String::from_utf8_lossy(&measured.stdout));
    }
}

/// Set in the re-executed bench: measure one setup of waiting executions.
const WAITING: &str = "WORKFLOW_BENCH_WAITING";

/// Starts executions that wait a day, in the setup `WAITING` names, and prints the memory.
fn waiting(setup: &str) {
    let count: u64 = std::env::var("WORKFLOW_BENCH_PARKED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100_000);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let before = rss_mib();
    let builder = match setup {
        "parked-sqlite" => {
            Runtime::builder().store(SqliteStore::open(dir.path().join("parked.db")).unwrap())
        }
        _ => Runtime::builder().store(MemoryStore::new()),
    };
    let builder = match setup {
        "running" => builder,
        _ => builder.park_after(Duration::from_secs(60)),
    };
    let runtime = builder.register::<Parked>().build().unwrap();
    let began = Instant::now();
    tokio.block_on(async {
        let mut handles = Vec::new();
        for n in 0..count {
            handles.push(runtime.start::<Parked>(n).await.unwrap());
        }
        // Every one has recorded its WaitStateEntered (and, parking, has parked).
        while setup != "running" && (runtime.parked() as u64) < count {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    let after = rss_mib();
    let label = match setup {
        "running" => "kept running in memory (memory store)",
        "parked" => "parked out of memory (memory store)",
        _ => "parked out of memory (SQLite file)",
    };
    println!(
        "{count} executions in a 1-day Wait, {label}: {after:.0} MiB resident ({before:.0} MiB before starting them; {:.2} KiB each), started in {:.1} s",
        (after - before) * 1024.0 / count as f64,
        began.elapsed().as_secs_f64()
    );
}
