//! Durable throughput of Standard executions on a SQLite file (`synchronous = FULL`): 1,000
//! concurrent executions of a workflow of 10 no-op task states, with group commit sharing
//! commits between executions; the same executions one at a time, so that every append is a
//! commit of its own; and the disk's raw rate of `fdatasync`ed writes measured in the same
//! run, the floor under any durable store on this disk.
//!
//! ```text
//! cargo bench --bench standard_durable
//! ```
//!
//! `WORKFLOW_BENCH_EXECUTIONS` sets the number of concurrent executions (1,000) and
//! `WORKFLOW_BENCH_SEQUENTIAL` the number run one at a time (100). The last line is the row
//! `benches/peers/run` puts beside the peers' (`peer row: | ... |`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // A benchmark binary.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use workflow::prelude::*;
use workflow::store::SqliteStore;

#[path = "support/ten.rs"]
mod ten;
use ten::Ten;

/// State transitions per execution: into each of its 10 states.
const TRANSITIONS: f64 = 10.0;

/// Appends (durable writes) per execution: before each step starts (with the previous step's
/// end), and its end.
const APPENDS: f64 = 11.0;

fn runtime(dir: &std::path::Path, name: &str) -> Runtime {
    Runtime::builder()
        .store(SqliteStore::open(dir.join(name)).unwrap())
        .register::<Ten>()
        .build()
        .unwrap()
}

/// `count` executions started at once; the seconds until all ended.
async fn concurrent(runtime: &Runtime, count: u64) -> f64 {
    let began = Instant::now();
    let starts = (0..count).map(|n| runtime.start::<Ten>(n));
    let handles = futures_util::future::join_all(starts).await;
    for handle in handles {
        handle.unwrap().result().await.unwrap().unwrap();
    }
    began.elapsed().as_secs_f64()
}

/// `count` executions one after another; each one's latency, sorted.
async fn sequential(runtime: &Runtime, count: u64) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for n in 0..count {
        let began = Instant::now();
        let handle = runtime.start::<Ten>(n).await.unwrap();
        handle.result().await.unwrap().unwrap();
        latencies.push(began.elapsed());
    }
    latencies.sort();
    latencies
}

/// Bytes of one commit of an append in SQLite's WAL: two frames (a 24-byte header and a
/// 4 KiB page each).
const COMMIT_BYTES: usize = 2 * (24 + 4096);

/// Durable writes per second straight to a file in `dir`, the cheapest a durable commit can
/// be on this disk: one commit's bytes written in place into a file already written once (so
/// no sync has to record a new size or new blocks), then `fdatasync`.
fn fsync_rate(dir: &std::path::Path) -> f64 {
    let mut file = std::fs::File::create(dir.join("fsync.bin")).unwrap();
    let slots = 20_000;
    file.write_all(&vec![0u8; COMMIT_BYTES * slots]).unwrap();
    file.sync_all().unwrap();
    let began = Instant::now();
    let mut writes = 0usize;
    while began.elapsed() < Duration::from_secs(2) {
        let offset = (COMMIT_BYTES * (writes % slots)) as u64;
        file.write_all_at(&[7u8; COMMIT_BYTES], offset).unwrap();
        file.sync_data().unwrap();
        writes += 1;
    }
    writes as f64 / began.elapsed().as_secs_f64()
}

fn main() {
    let count = |variable: &str, default: u64| {
        std::env::var(variable)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let executions = count("WORKFLOW_BENCH_EXECUTIONS", 1_000);
    let one_at_a_time = count("WORKFLOW_BENCH_SEQUENTIAL", 100);
    let dir = tempfile::tempdir().unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let fsyncs = fsync_rate(dir.path());
    let grouped = {
        let runtime = runtime(dir.path(), "grouped.db");
        tokio.block_on(concurrent(&runtime, executions))
    };
    let latencies = {
        let runtime = runtime(dir.path(), "sequential.db");
        tokio.block_on(sequential(&runtime, one_at_a_time))
    };
    let sequential_total: f64 = latencies.iter().map(Duration::as_secs_f64).sum();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index].as_secs_f64() * 1000.0
    };

    println!("Standard executions of 10 no-op task states on a SQLite file (synchronous = FULL)");
    println!();
    println!("| run | executions | executions/s | transitions/s | appends/s |");
    println!("|---|---:|---:|---:|---:|");
    let row = |label: &str, count: f64, seconds: f64| {
        println!(
            "| {label} | {count} | {:.0} | {:.0} | {:.0} |",
            count / seconds,
            count * TRANSITIONS / seconds,
            count * APPENDS / seconds
        );
    };
    row("concurrent, group commit", executions as f64, grouped);
    row(
        "one at a time (a commit per append)",
        one_at_a_time as f64,
        sequential_total,
    );
    println!();
    println!(
        "one execution at a time: p50 {:.2} ms, p99 {:.2} ms per execution",
        percentile(0.5),
        percentile(0.99)
    );
    println!("raw fdatasync'ed writes on the same disk: {fsyncs:.0}/s (the durable floor: a commit needs at least one)");
    let floor = APPENDS / fsyncs * 1000.0;
    println!(
        "one execution at a time against the floor ({APPENDS} appends x one fdatasync = {floor:.2} ms): p50 / floor = {:.2} (goal 1.25)",
        percentile(0.5) / floor
    );
    println!(
        "peer row: | workflow {} (SQLite, group commit) | {:.0} | {:.0} | {:.2} | {:.2} |",
        env!("CARGO_PKG_VERSION"),
        executions as f64 / grouped,
        executions as f64 * TRANSITIONS / grouped,
        percentile(0.5),
        percentile(0.99)
    );
}
