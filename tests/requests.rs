//! Stop and redrive requests left in the store by tools without the workflow's code, carried
//! out by a runtime that serves. Runs on every store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use workflow::prelude::*;
use workflow::store::{RequestKind, RequestStatus, Requests, Store};
use workflow::{Clock, ExecutionStatus, VirtualClock};

/// Fails on its first run, succeeds after; a value of 0 never finishes.
#[derive(Default)]
struct Attempts(AtomicU32);

#[derive(Debug, thiserror::Error, StepError)]
enum FlakyError {
    #[error("not yet")]
    NotYet,
}

#[step]
async fn flaky(value: u32, attempts: Res<Attempts>) -> Result<u32, FlakyError> {
    if value == 0 {
        std::future::pending::<()>().await;
    }
    if attempts.0.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(FlakyError::NotYet);
    }
    Ok(value + 1)
}

workflow! {
    /// Runs a flaky step.
    Flaky: Standard<u32, u32> {
        start Run;
        Run: task flaky -> end;
    }
}

mod support {
    pub(crate) mod stores;
}
use support::stores::stores;

fn runtime(store: &Arc<dyn Store>, clock: &VirtualClock) -> Runtime {
    Runtime::builder()
        .store_arc(Arc::clone(store))
        .clock(clock.clone())
        .resource(Attempts::default())
        .register::<Flaky>()
        .build()
        .unwrap()
}

async fn finished(requests: &dyn Requests, id: i64) -> RequestStatus {
    for _ in 0..1000 {
        let status = requests.request_of(id).await.unwrap().unwrap().status;
        if !matches!(status, RequestStatus::Pending | RequestStatus::Taken) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("request {id} was never carried out");
}

#[tokio::test(start_paused = true)]
async fn a_serving_runtime_carries_out_stop_and_redrive_requests() {
    for (label, store, _keep) in stores().await {
        let requests = store.requests().expect("every store here takes requests");
        let clock = VirtualClock::new();
        let runtime = runtime(&store, &clock);
        let _serving = runtime.serve().unwrap();

        // Stop: a stuck execution ends Aborted with the requested error and cause.
        let stuck = runtime.start_named::<Flaky>("stuck", 0).await.unwrap();
        let asked = requests
            .request(
                stuck.id(),
                "Flaky",
                RequestKind::Stop {
                    error: Some("Ops.Stopped".into()),
                    cause: Some("by the console".into()),
                },
                clock.now(),
            )
            .await
            .unwrap();
        assert_eq!(
            finished(requests, asked).await,
            RequestStatus::Done,
            "{label}"
        );
        let record = runtime.describe(stuck.id()).await.unwrap();
        assert_eq!(record.status, ExecutionStatus::Aborted, "{label}");
        assert_eq!(record.error.as_deref(), Some("Ops.Stopped"), "{label}");
        assert_eq!(record.cause.as_deref(), Some("by the console"), "{label}");

        // Redrive: a failed execution runs its failed state again and succeeds.
        let flaky = runtime.start_named::<Flaky>("flaky", 4).await.unwrap();
        assert!(flaky.result().await.unwrap().is_err(), "{label}");
        let asked = requests
            .request(flaky.id(), "Flaky", RequestKind::Redrive, clock.now())
            .await
            .unwrap();
        assert_eq!(
            finished(requests, asked).await,
            RequestStatus::Done,
            "{label}"
        );
        let handle = runtime.handle::<Flaky>(flaky.id().clone());
        assert_eq!(handle.result().await.unwrap().unwrap(), 5, "{label}");

        // A request that cannot be carried out says why.
        let asked = requests
            .request(flaky.id(), "Flaky", RequestKind::Redrive, clock.now())
            .await
            .unwrap();
        match finished(requests, asked).await {
            RequestStatus::Failed(why) => assert!(why.contains("Succeeded"), "{label}: {why}"),
            other => panic!("{label}: {other:?}"),
        }

        // A request for a workflow this runtime does not have is left for another.
        let other = requests
            .request(flaky.id(), "Elsewhere", RequestKind::Redrive, clock.now())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(
            requests.request_of(other).await.unwrap().unwrap().status,
            RequestStatus::Pending,
            "{label}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_is_taken_once() {
    for (label, store, _keep) in stores().await {
        let requests = store.requests().expect("every store here takes requests");
        let clock = VirtualClock::new();
        let id = workflow::ExecutionId::from("x");
        for _ in 0..5 {
            requests
                .request(&id, "Flaky", RequestKind::Redrive, clock.now())
                .await
                .unwrap();
        }
        let workflows = ["Flaky".to_owned()];
        let (first, second) = tokio::join!(
            requests.take_requests(&workflows, 3),
            requests.take_requests(&workflows, 3)
        );
        let mut ids: Vec<i64> = first
            .unwrap()
            .into_iter()
            .chain(second.unwrap())
            .map(|request| request.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 5, "{label}: every request taken once");
        assert!(
            requests
                .take_requests(&workflows, 3)
                .await
                .unwrap()
                .is_empty(),
            "{label}"
        );
    }
}
