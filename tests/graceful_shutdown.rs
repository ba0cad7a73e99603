//! Shutting down gracefully (`Runtime::drain`): running executions finish and are recorded,
//! nothing new starts, and what still runs at the deadline is handed over through the store,
//! claimable by another runtime at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use workflow::prelude::*;
use workflow::store::{ClaimRequest, Store};
use workflow::{ExecutionStatus, RuntimeError};

mod support {
    pub(crate) mod stores;
}
use support::stores::stores;

/// Holds tasks until opened.
struct Gate(watch::Sender<bool>);

#[step]
async fn held(number: u32, gate: Res<Gate>) -> u32 {
    let mut open = gate.0.subscribe();
    let _ = open.wait_for(|open| *open).await;
    number + 1
}

#[step]
async fn quick(number: u32) -> u32 {
    number + 1
}

workflow! {
    /// One task, held until the gate opens.
    Held: Standard<u32, u32> {
        start Work;
        Work: task held -> end;
    }
}

workflow! {
    /// A task, an hour's wait (kept in memory), a task.
    Waits: Standard<u32, u32> {
        start First;
        First: task quick -> Pause;
        Pause: wait 1h -> Last;
        Last: task quick -> end;
    }
}

fn runtime(store: Arc<dyn Store>, gate: &Arc<Gate>) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .resource_arc(Arc::clone(gate))
        .register::<Held>()
        .register::<Waits>()
        .build()
        .expect("builds")
}

/// Draining refuses new starts and waits for the running executions, whose ends are recorded;
/// nothing is handed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_lets_running_executions_finish_and_starts_nothing_new() {
    for (label, store, _keep) in stores().await {
        let gate = Arc::new(Gate(watch::Sender::new(false)));
        let runtime = runtime(store, &gate);
        let mut ids = Vec::new();
        for number in 0..3 {
            ids.push(
                runtime
                    .start::<Held>(number)
                    .await
                    .expect(label)
                    .id()
                    .clone(),
            );
        }
        let draining = tokio::spawn({
            let runtime = runtime.clone();
            async move { runtime.drain(Duration::from_secs(60)).await }
        });
        // Once draining, a start is refused.
        let refused = loop {
            match runtime.start::<Held>(9).await {
                Err(error) => break error,
                Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        };
        assert!(
            matches!(refused, RuntimeError::ShutDown),
            "{label}: {refused}"
        );
        assert!(
            matches!(runtime.call::<Held>(9).await, Err(RuntimeError::ShutDown)),
            "{label}"
        );

        gate.0.send_replace(true);
        let drained = draining.await.expect("joins");
        assert!(
            ids.iter().all(|id| drained.finished.contains(id)),
            "{label}: {drained:?}"
        );
        assert_eq!(drained.handed_over, [], "{label}");
        for id in &ids {
            let record = runtime.describe(id).await.expect(label);
            assert_eq!(record.status, ExecutionStatus::Succeeded, "{label}");
        }
    }
}

/// An execution still running at the deadline (here, in an hour's wait) is stopped and its
/// lease given back: another owner can claim it at once, not a lease later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_deadline_the_rest_is_handed_over_for_another_runtime_to_claim_at_once() {
    for (label, store, _keep) in stores().await {
        let gate = Arc::new(Gate(watch::Sender::new(false)));
        let runtime = runtime(Arc::clone(&store), &gate);
        let handle = runtime.start::<Waits>(1).await.expect(label);
        let id = handle.id().clone();
        // Until its wait is recorded, so that nothing of it is in flight.
        loop {
            let events = runtime.history(&id, 0, 100).await.expect(label);
            if events.len() >= 7 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }

        let drained = runtime.drain(Duration::from_millis(200)).await;
        assert_eq!(
            drained.handed_over,
            std::slice::from_ref(&id),
            "{label}: {drained:?}"
        );
        assert_eq!(drained.finished, [], "{label}");

        let now = SystemTime::now();
        let request = ClaimRequest::new(
            "another-runtime",
            vec!["Waits".to_owned()],
            now + Duration::from_secs(60),
            now,
            10,
        );
        let claims = store.leases().claim(request).await.expect(label);
        let claimed: Vec<_> = claims.iter().map(|claim| claim.id.clone()).collect();
        assert_eq!(claimed, [id], "{label}: claimable at once");
    }
}
