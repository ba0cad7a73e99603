//! A panic is a failure like any other: in a step, a task failure that Retry and Catch see; in
//! the workflow's own code, `States.Runtime` naming the state. The execution always ends.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::testing::{Harness, Mock};
use workflow::{EventType, ExecutionStatus, VirtualClock};

use crate::support::stores::stores;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Parcel {
    pub(crate) id: u32,
    pub(crate) items: Vec<u32>,
}

/// Counts the runs of the panicking step.
#[derive(Default)]
pub(crate) struct Runs(pub(crate) AtomicU32);

#[step]
async fn explode(parcel: Parcel, runs: Res<Runs>) -> String {
    runs.0.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    panic!("parcel {} is on fire", parcel.id);
}

#[step]
async fn rescue(caught: Caught<Parcel>) -> String {
    format!("{}: {}", caught.error, caught.cause)
}

#[step]
async fn deliver(parcel: Parcel) -> String {
    format!("delivered {}", parcel.id)
}

workflow! {
    /// A step that panics, retried twice, then caught.
    Doomed: Standard<Parcel, String> {
        start Explode;
        Explode: task explode -> end,
            retry States::ALL { max_attempts: 2, interval: 1s },
            catch States::ALL -> Rescue;
        Rescue: task rescue -> end;
    }
}

workflow! {
    /// The same, as an Express workflow.
    DoomedExpress: Express<Parcel, String> {
        start Explode;
        Explode: task explode -> end,
            retry States::ALL { max_attempts: 2, interval: 1s },
            catch States::ALL -> Rescue;
        Rescue: task rescue -> end;
    }
}

workflow! {
    /// A step that panics, with no retrier or catcher.
    Unguarded: Standard<Parcel, String> {
        start Explode;
        Explode: task explode -> end;
    }
}

workflow! {
    /// A child workflow whose step panics, run from a parent that catches its failure.
    Parent: Standard<Parcel, String> {
        start Child;
        Child: task Unguarded -> end, catch States::ALL -> Deliver;
        Deliver: pass |_failed: Caught<Parcel>| -> Parcel { Parcel { id: 0, items: Vec::new() } } -> Ship;
        Ship: task deliver -> end;
    }
}

fn panicking_rule(parcel: &Parcel) -> bool {
    assert!(parcel.id != 13, "unlucky parcel {}", parcel.id);
    false
}

fn panicking_selector(parcel: &Parcel) -> Vec<u32> {
    assert!(
        parcel.items.len() < 3,
        "too many items: {}",
        parcel.items.len()
    );
    parcel.items.clone()
}

#[step]
async fn count(item: u32) -> u32 {
    item
}

workflow! {
    /// The workflow's own code panics: a Choice rule, a Pass function, a Map selector, a
    /// `wait until` closure, chosen by the parcel's id.
    Logic: Standard<Parcel, String> {
        start Route;
        Route: choice {
            |parcel: &Parcel| parcel.id == 1 => Transform,
            |parcel: &Parcel| parcel.id == 2 => Split,
            |parcel: &Parcel| parcel.id == 3 => Hold,
            panicking_rule => Ship,
            _ => Ship,
        };
        Transform: pass |parcel: Parcel| -> Parcel {
            assert!(parcel.items.is_empty(), "cannot transform {:?}", parcel.items);
            parcel
        } -> Ship;
        Split: map panicking_selector {
            start Count;
            Count: task count -> end;
        } -> Done;
        Done: pass |_counts: Vec<u32>| -> Parcel { Parcel { id: 0, items: Vec::new() } } -> Ship;
        Hold: wait until |parcel: &Parcel| -> SystemTime {
            assert!(parcel.items.is_empty(), "no time for {:?}", parcel.items);
            SystemTime::UNIX_EPOCH
        } -> Ship;
        Ship: task deliver -> end;
    }
}

fn runtime(store: Arc<dyn workflow::store::Store>, runs: Arc<Runs>) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .clock(VirtualClock::new())
        .resource_arc(runs)
        .register::<Doomed>()
        .register::<DoomedExpress>()
        .register::<Unguarded>()
        .register::<Parent>()
        .register::<Logic>()
        .build()
        .expect("builds")
}

fn parcel(id: u32, items: &[u32]) -> Parcel {
    Parcel {
        id,
        items: items.to_vec(),
    }
}

/// The figure: a panicking step with `retry States::ALL { max_attempts: 2 }` runs 3
/// times, then is caught; `result()` returns; on every store.
#[tokio::test(start_paused = true)]
async fn a_panicking_step_is_retried_then_caught_on_every_store() {
    for (label, store, _keep) in stores().await {
        let runs = Arc::new(Runs::default());
        let runtime = runtime(Arc::clone(&store), Arc::clone(&runs));
        let handle = runtime.start::<Doomed>(parcel(7, &[])).await.expect(label);
        let output = tokio::time::timeout(Duration::from_secs(60), handle.result())
            .await
            .unwrap_or_else(|_| panic!("{label}: result() never returned"))
            .expect(label)
            .expect(label);
        assert_eq!(
            output, "States.TaskFailed: step `explode` panicked: parcel 7 is on fire",
            "{label}"
        );
        assert_eq!(runs.0.load(Ordering::SeqCst), 3, "{label}: runs");
        let events = runtime.history(handle.id(), 0, 1000).await.expect(label);
        let failed: Vec<_> = events
            .iter()
            .filter(|event| event.kind == EventType::TaskFailed)
            .collect();
        assert_eq!(failed.len(), 3, "{label}");
        assert!(failed
            .iter()
            .all(|event| event.error.as_deref() == Some("States.TaskFailed")));
        assert_eq!(
            events.last().map(|event| event.kind),
            Some(EventType::ExecutionSucceeded),
            "{label}"
        );
        // Nothing is left running: recovery finds nothing to resume.
        assert!(
            runtime.recover().await.expect(label).resumed.is_empty(),
            "{label}"
        );
        println!(
            "panics ({label}): a panicking step ran {} times (1 + 2 retries), then was caught; result() returned",
            runs.0.load(Ordering::SeqCst)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_without_a_catcher_fails_the_execution_and_the_handle_returns() {
    for (label, store, _keep) in stores().await {
        let runs = Arc::new(Runs::default());
        let runtime = runtime(Arc::clone(&store), Arc::clone(&runs));
        let handle = runtime
            .start::<Unguarded>(parcel(8, &[]))
            .await
            .expect(label);
        let failure = tokio::time::timeout(Duration::from_secs(60), handle.result())
            .await
            .unwrap_or_else(|_| panic!("{label}: result() never returned"))
            .expect(label)
            .expect_err("fails");
        assert_eq!(failure.error(), "States.TaskFailed", "{label}");
        assert!(failure.cause().contains("parcel 8 is on fire"), "{label}");
        let record = runtime.describe(handle.id()).await.expect(label);
        assert_eq!(record.status, ExecutionStatus::Failed, "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn express_executions_survive_panics_sync_and_async() {
    let runs = Arc::new(Runs::default());
    let runtime = runtime(
        Arc::new(workflow::store::MemoryStore::new()),
        Arc::clone(&runs),
    );
    let execution = runtime
        .execute::<DoomedExpress>(parcel(1, &[]))
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(String::as_str),
        Some("States.TaskFailed: step `explode` panicked: parcel 1 is on fire")
    );
    let called = runtime
        .call::<DoomedExpress>(parcel(2, &[]))
        .await
        .expect("runs")
        .expect("caught");
    assert!(called.contains("parcel 2 is on fire"));
    let handle = runtime
        .start::<DoomedExpress>(parcel(3, &[]))
        .await
        .expect("starts");
    let started = tokio::time::timeout(Duration::from_secs(60), handle.result())
        .await
        .expect("result() returns")
        .expect("result")
        .expect("caught");
    assert!(started.contains("parcel 3 is on fire"));
    assert_eq!(runs.0.load(Ordering::SeqCst), 9);
}

#[tokio::test(start_paused = true)]
async fn a_child_executions_panic_reaches_its_parent() {
    let runs = Arc::new(Runs::default());
    let runtime = runtime(Arc::new(workflow::store::MemoryStore::new()), runs);
    let execution = runtime
        .execute::<Parent>(parcel(4, &[]))
        .await
        .expect("runs");
    assert_eq!(execution.output().map(String::as_str), Some("delivered 0"));
    let child = &execution.children()[0];
    assert_eq!(child.status, ExecutionStatus::Failed);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_mock_is_a_task_failure() {
    let harness = Harness::builder()
        .mock::<explode>(Mock::new(|parcel: Parcel| async move {
            panic!("mocked parcel {} exploded", parcel.id)
        }))
        .register::<Doomed>()
        .build()
        .expect("builds");
    let execution = harness
        .runtime()
        .execute::<Doomed>(parcel(5, &[]))
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(String::as_str),
        Some("States.TaskFailed: step `explode` panicked: mocked parcel 5 exploded")
    );
}

/// A panic in a Choice rule, a Pass function, a Map selector or a `wait until` closure fails
/// the execution with `States.Runtime`, naming the state, and nothing is left running.
#[tokio::test(start_paused = true)]
async fn a_panic_in_the_workflows_own_code_fails_it_with_states_runtime() {
    for (label, store, _keep) in stores().await {
        let runtime = runtime(Arc::clone(&store), Arc::default());
        let cases = [
            (parcel(13, &[]), "Route", "unlucky parcel 13"),
            (parcel(1, &[9]), "Transform", "cannot transform [9]"),
            (parcel(2, &[1, 2, 3]), "Split", "too many items: 3"),
            (parcel(3, &[4]), "Hold", "no time for [4]"),
        ];
        for (input, state, message) in cases {
            let handle = runtime.start::<Logic>(input).await.expect(label);
            let failure = tokio::time::timeout(Duration::from_secs(60), handle.result())
                .await
                .unwrap_or_else(|_| panic!("{label}: {state}: result() never returned"))
                .expect(label)
                .expect_err("fails");
            assert_eq!(failure.error(), "States.Runtime", "{label}: {state}");
            assert_eq!(
                failure.cause(),
                format!("the workflow's code in state `{state}` panicked: {message}"),
                "{label}"
            );
            let events = runtime.history(handle.id(), 0, 1000).await.expect(label);
            assert_eq!(
                events.last().map(|event| event.kind),
                Some(EventType::ExecutionFailed),
                "{label}: {state}"
            );
        }
        // A good parcel still goes through.
        let fine = runtime.execute::<Logic>(parcel(5, &[])).await.expect(label);
        assert_eq!(fine.output().map(String::as_str), Some("delivered 5"));
        assert!(
            runtime.recover().await.expect(label).resumed.is_empty(),
            "{label}"
        );
        println!("panics ({label}): 4 panics in a workflow's own code, 4 executions failed with States.Runtime naming the state");
    }
}
