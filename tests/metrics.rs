//! The runtime's metrics (the `metrics` feature), captured by a recording of the `metrics`
//! facade: executions started and ended by status, each state's duration, retries by error,
//! and the SQLite store's group commit.

#![cfg(feature = "metrics")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicU32, Ordering};

use metrics::{SharedString, Unit};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use workflow::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum GatewayError {
    #[error("the gateway timed out")]
    Timeout,
}

/// Fails the first call, succeeds after.
#[derive(Default)]
struct Calls(AtomicU32);

#[step]
async fn charge(cents: u64, calls: Res<Calls>) -> Result<u64, GatewayError> {
    if calls.0.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(GatewayError::Timeout);
    }
    Ok(cents)
}

#[step]
async fn ship(cents: u64) -> u64 {
    cents
}

workflow! {
    /// A retried charge, then shipping.
    Metered: Standard<u64, u64> {
        start Charge;
        Charge: task charge -> Ship,
            retry GatewayError::Timeout { interval: 1s, max_attempts: 3 };
        Ship: task ship -> end;
    }
}

workflow! {
    /// One task, in memory.
    Quick: Express<u64, u64> {
        start Ship;
        Ship: task ship -> end;
    }
}

/// What one snapshot of the recorder holds (taking one resets counters and histograms).
type Snapshot = Vec<(CompositeKey, Option<Unit>, Option<SharedString>, DebugValue)>;

/// The value of the metric `name` whose labels include every one of `labels`.
fn value<'s>(
    snapshot: &'s Snapshot,
    kind: MetricKind,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'s DebugValue> {
    snapshot
        .iter()
        .find(|(key, _, _, _)| {
            key.kind() == kind
                && key.key().name() == name
                && labels.iter().all(|(label, wanted)| {
                    key.key()
                        .labels()
                        .any(|have| have.key() == *label && have.value() == *wanted)
                })
        })
        .map(|(_, _, _, value)| value)
}

fn counter(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(snapshot, MetricKind::Counter, name, labels) {
        Some(DebugValue::Counter(count)) => *count,
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

fn samples(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> usize {
    match value(snapshot, MetricKind::Histogram, name, labels) {
        Some(DebugValue::Histogram(samples)) => samples.len(),
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn executions_states_retries_and_commits_are_measured() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this test binary");

    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::builder()
        .store(SqliteStore::open(dir.path().join("metrics.db")).unwrap())
        .resource(Calls::default())
        .register::<Metered>()
        .register::<Quick>()
        .build()
        .unwrap();
    let handle = runtime.start::<Metered>(250).await.unwrap();
    assert_eq!(handle.result().await.unwrap(), Ok(250));
    assert_eq!(runtime.call::<Quick>(7).await.unwrap(), Ok(7));
    // An asynchronous Express start: accepted in the store, run from its start in memory.
    let accepted = runtime.start::<Quick>(8).await.unwrap();
    assert_eq!(accepted.result().await.unwrap(), Ok(8));

    let snapshot = snapshotter.snapshot().into_vec();
    let standard = [("workflow", "Metered"), ("mode", "Standard")];
    assert_eq!(
        counter(&snapshot, "workflow_executions_started_total", &standard),
        1
    );
    let succeeded = [("workflow", "Metered"), ("status", "succeeded")];
    assert_eq!(
        counter(&snapshot, "workflow_executions_ended_total", &succeeded),
        1
    );
    // Two Express executions (a call, an asynchronous start), each counted once.
    let quick = [("workflow", "Quick"), ("mode", "Express")];
    assert_eq!(
        counter(&snapshot, "workflow_executions_started_total", &quick),
        2
    );
    let express = [
        ("workflow", "Quick"),
        ("mode", "Express"),
        ("status", "succeeded"),
    ];
    assert_eq!(
        counter(&snapshot, "workflow_executions_ended_total", &express),
        2
    );

    let retried = [
        ("workflow", "Metered"),
        ("state", "Charge"),
        ("error", "GatewayError.Timeout"),
    ];
    assert_eq!(
        counter(&snapshot, "workflow_task_retries_total", &retried),
        1
    );

    // One duration per state run, under its own workflow.
    for (workflow, state) in [
        ("Metered", "Charge"),
        ("Metered", "Ship"),
        ("Quick", "Ship"),
    ] {
        let labels = [("workflow", workflow), ("state", state), ("kind", "Task")];
        let runs = if workflow == "Quick" { 2 } else { 1 };
        assert_eq!(
            samples(&snapshot, "workflow_state_duration_seconds", &labels),
            runs
        );
    }

    let store = [("store", "SqliteStore")];
    assert!(samples(&snapshot, "workflow_store_commit_batch_size", &store) >= 1);
}
