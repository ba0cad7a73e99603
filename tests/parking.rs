//! Executions parked out of memory during long waits (`RuntimeBuilder::park_after`): the
//! task ends once the wait is durable, and the runtime resumes the execution from the store,
//! by replay, when it is due; on every store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use workflow::prelude::*;
use workflow::store::Store;
use workflow::{EventType, ExecutionStatus, VirtualClock};

mod support {
    pub(crate) mod recorded;
    pub(crate) mod stores;
}
use support::recorded::{time_between, until_recorded};
use support::stores::stores;

/// Counts how often each step really ran.
#[derive(Default)]
struct Ledger {
    prepared: AtomicU32,
    finished: AtomicU32,
}

#[step]
async fn prepare(order: u32, ledger: Res<Ledger>) -> u32 {
    ledger.prepared.fetch_add(1, Ordering::SeqCst);
    order
}

#[step]
async fn finish(order: u32, ledger: Res<Ledger>) -> u32 {
    ledger.finished.fetch_add(1, Ordering::SeqCst);
    order * 10
}

workflow! {
    /// Prepares, waits an hour, finishes.
    Hourly: Standard<u32, u32> {
        start Prepare;
        Prepare: task prepare -> Pause;
        Pause: wait 1h -> Finish;
        Finish: task finish -> end;
    }
}

workflow! {
    /// Prepares, waits as many hours as the order's number, finishes.
    HoursFromInput: Standard<u32, u32> {
        start Prepare;
        Prepare: task prepare -> Pause;
        Pause: wait for |order: &u32| Duration::from_secs(u64::from(*order) * 3600) -> Finish;
        Finish: task finish -> end;
    }
}

#[derive(Debug, Clone, Copy, thiserror::Error, StepError)]
enum Refusal {
    #[error("refused")]
    Refused,
}

/// Fails the first time it runs for an order (after a second), then doubles it.
#[step]
async fn refuse_once(order: u32, ledger: Res<Ledger>) -> Result<u32, Refusal> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    if ledger.prepared.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(Refusal::Refused);
    }
    Ok(order * 2)
}

workflow! {
    /// A Parallel state retried after up to 6 hours (full jitter: next to never under a second).
    RetriedHourly: Standard<u32, (u32, u32)> {
        start Both;
        Both: parallel {
            branch { start Keep; Keep: wait 10s -> end; }
            branch { start Refuse; Refuse: task refuse_once -> end; }
        } -> end, retry States::ALL { max_attempts: 1, interval: 6h, jitter: full };
    }
}

fn runtime(store: Arc<dyn Store>, ledger: Arc<Ledger>, park_after: Duration) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .clock(VirtualClock::new())
        .resource_arc(ledger)
        .park_after(park_after)
        .register::<Hourly>()
        .register::<RetriedHourly>()
        .register::<HoursFromInput>()
        .build()
        .expect("builds")
}

#[tokio::test(start_paused = true)]
async fn a_long_wait_leaves_memory_and_the_execution_resumes_when_due() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), Duration::from_secs(60));
        let handles = [
            runtime.start::<Hourly>(1).await.expect(label),
            runtime.start::<Hourly>(2).await.expect(label),
        ];
        for handle in &handles {
            until_recorded(&runtime, handle.id(), EventType::WaitStateEntered).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runtime.parked(), 2, "{label}: both wait out of memory");

        for (handle, order) in handles.iter().zip([1, 2]) {
            assert_eq!(
                handle.result().await.expect(label),
                Ok(order * 10),
                "{label}"
            );
            let events = runtime.history(handle.id(), 0, 100).await.expect(label);
            let at = |kind: EventType| {
                let found: Vec<_> = events.iter().filter(|event| event.kind == kind).collect();
                assert_eq!(found.len(), 1, "{label}: one {kind}");
                found[0].timestamp
            };
            let waited = at(EventType::WaitStateExited)
                .duration_since(at(EventType::WaitStateEntered))
                .expect("forward");
            assert_eq!(waited, Duration::from_secs(3600), "{label}: woke when due");
            for (index, event) in events.iter().enumerate() {
                assert_eq!(event.id, index as u64 + 1, "{label}: one unbroken history");
            }
        }
        assert_eq!(runtime.parked(), 0, "{label}");
        assert_eq!(
            ledger.prepared.load(Ordering::SeqCst),
            2,
            "{label}: not rerun"
        );
        assert_eq!(ledger.finished.load(Ordering::SeqCst), 2, "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_worked_out_from_the_input_parks_and_resumes_when_due() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), Duration::from_secs(60));
        let mut handles = Vec::new();
        for order in [2, 5] {
            let handle = runtime.start::<HoursFromInput>(order).await.expect(label);
            until_recorded(&runtime, handle.id(), EventType::WaitStateEntered).await;
            handles.push((order, handle));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runtime.parked(), 2, "{label}: both wait out of memory");
        for (order, handle) in &handles {
            assert_eq!(
                handle.result().await.expect(label),
                Ok(order * 10),
                "{label}"
            );
            let events = runtime.history(handle.id(), 0, 100).await.expect(label);
            let waited = time_between(
                &events,
                EventType::WaitStateEntered,
                EventType::WaitStateExited,
            );
            assert_eq!(
                waited,
                Duration::from_secs(u64::from(*order) * 3600),
                "{label}: woke after the hours its input says, once resumed"
            );
        }
        assert_eq!(ledger.prepared.load(Ordering::SeqCst), 2, "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_shorter_than_the_threshold_stays_in_memory() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), Duration::from_secs(7200));
        let handle = runtime.start::<Hourly>(3).await.expect(label);
        until_recorded(&runtime, handle.id(), EventType::WaitStateEntered).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(runtime.parked(), 0, "{label}");
        assert_eq!(handle.result().await.expect(label), Ok(30), "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_parked_execution_stopped_meanwhile_is_not_resumed() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), Duration::from_secs(60));
        let handle = runtime.start::<Hourly>(4).await.expect(label);
        until_recorded(&runtime, handle.id(), EventType::WaitStateEntered).await;
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(runtime.parked(), 1, "{label}");
        runtime
            .stop(handle.id(), Some("Cancelled"), Some("no longer needed"))
            .await
            .expect(label);
        assert_eq!(
            runtime.parked(),
            0,
            "{label}: a stopped execution is not parked"
        );

        // Past the hour: the alarm goes off and finds the execution over.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(runtime.parked(), 0, "{label}");
        let record = runtime.describe(handle.id()).await.expect(label);
        assert_eq!(record.status, ExecutionStatus::Aborted, "{label}");
        let events = runtime.history(handle.id(), 0, 100).await.expect(label);
        assert_eq!(
            events.last().map(|event| event.kind),
            Some(EventType::ExecutionAborted),
            "{label}"
        );
        assert_eq!(ledger.finished.load(Ordering::SeqCst), 0, "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn parked_executions_are_recovered_by_a_new_runtime_after_a_shutdown() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let before = runtime(
            Arc::clone(&store),
            Arc::clone(&ledger),
            Duration::from_secs(60),
        );
        let handle = before.start::<Hourly>(5).await.expect(label);
        until_recorded(&before, handle.id(), EventType::WaitStateEntered).await;
        tokio::time::sleep(Duration::from_secs(600)).await;
        before.shutdown();
        assert_eq!(
            before.parked(),
            0,
            "{label}: a shut-down runtime forgets its alarms"
        );

        let after = runtime(store, Arc::clone(&ledger), Duration::from_secs(60));
        assert_eq!(
            after.recover().await.expect(label).resumed,
            [handle.id().clone()],
            "{label}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            after.parked(),
            1,
            "{label}: parked again, until the same time"
        );
        let output = after.handle::<Hourly>(handle.id().clone()).result().await;
        assert_eq!(output.expect(label), Ok(50), "{label}");
        assert_eq!(ledger.prepared.load(Ordering::SeqCst), 1, "{label}");
        assert_eq!(ledger.finished.load(Ordering::SeqCst), 1, "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_redriven_execution_that_parks_again_is_counted_once() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), Duration::from_secs(60));
        let handle = runtime.start::<Hourly>(6).await.expect(label);
        until_recorded(&runtime, handle.id(), EventType::WaitStateEntered).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        runtime.stop(handle.id(), None, None).await.expect(label);
        for _ in 0..2 {
            let redriven = runtime.redrive::<Hourly>(handle.id()).await.expect(label);
            tokio::time::sleep(Duration::from_secs(60)).await;
            assert_eq!(runtime.parked(), 1, "{label}: parked once");
            runtime.stop(redriven.id(), None, None).await.expect(label);
            assert_eq!(runtime.parked(), 0, "{label}");
        }
    }
}

/// The delay before a retried Parallel state's next attempt is drawn once and stored on that
/// attempt's `ParallelStateStarted`: the execution parks, and resumes when that delay is over.
/// The failed attempt is not run again on resuming: its Wait, cancelled mid-way and long due
/// by then, stays aborted.
#[tokio::test(start_paused = true)]
async fn a_parked_parallel_retry_resumes_after_the_delay_it_drew() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), Duration::from_secs(1));
        let handle = runtime.start::<RetriedHourly>(7).await.expect(label);
        until_recorded(&runtime, handle.id(), EventType::TaskFailed).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runtime.parked(), 1, "{label}: parked for the retry delay");
        let output = handle.result().await.expect(label);
        assert_eq!(output, Ok((7, 14)), "{label}");
        let events = runtime.history(handle.id(), 0, 100).await.expect(label);
        let retry = events
            .iter()
            .find(|event| event.kind == EventType::ParallelStateStarted && event.attempt == Some(2))
            .expect("a second attempt");
        let delay = retry.retry_in.expect("its delay");
        assert!(delay <= Duration::from_secs(6 * 3600), "{label}: {delay:?}");
        let resumed = events
            .iter()
            .find(|event| event.id > retry.id && event.kind == EventType::TaskStateEntered)
            .expect("the branch ran again");
        let waited = resumed
            .timestamp
            .duration_since(retry.timestamp)
            .expect("forward");
        // Timers tick in whole milliseconds.
        assert!(
            waited >= delay && waited - delay < Duration::from_millis(1),
            "{label}: the second attempt ran when its drawn delay was over: {waited:?} for {delay:?}"
        );
        assert_eq!(ledger.prepared.load(Ordering::SeqCst), 2, "{label}");
        let kept: Vec<EventType> = events
            .iter()
            .filter(|event| event.branch.as_deref() == Some("Both/0"))
            .map(|event| event.kind)
            .collect();
        assert_eq!(
            kept,
            [
                EventType::WaitStateEntered,
                EventType::WaitStateAborted,
                EventType::WaitStateEntered,
                EventType::WaitStateExited
            ],
            "{label}"
        );
        for (index, event) in events.iter().enumerate() {
            assert_eq!(event.id, index as u64 + 1, "{label}: one unbroken history");
        }
    }
}
