//! Scaling: the cost per step of one execution of 10, 100, 1,000 and 10,000 steps (a loop of
//! a task and a Choice), in memory with its full history and durably on a SQLite file; it must
//! stay flat (nothing quadratic in history or recording). Then the resident memory of 100,000
//! Standard executions parked in a one-day Wait, in memory.
//!
//! ```text
//! cargo bench --bench scaling
//! ```
//!
//! `WORKFLOW_BENCH_PARKED` sets the number of parked executions (100,000).

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

    let parked: u64 = std::env::var("WORKFLOW_BENCH_PARKED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100_000);
    let before = rss_mib();
    let runtime = runtime(MemoryStore::new(), 1);
    let began = Instant::now();
    tokio.block_on(async {
        for n in 0..parked {
            runtime.start::<Parked>(n).await.unwrap();
        }
        // Every one has recorded its WaitStateEntered.
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    let after = rss_mib();
    println!();
    println!(
        "{parked} executions parked in a 1-day Wait (memory store): {:.0} MiB resident ({:.0} MiB before starting them; {:.2} KiB each), started in {:.1} s",
        after,
        before,
        (after - before) * 1024.0 / parked as f64,
        began.elapsed().as_secs_f64()
    );
}
