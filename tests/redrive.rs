//! Redrive: a failed execution runs again from what had not finished, with the same id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{MemoryStore, Store};

mod support {
    pub(crate) mod stores;
}
use support::stores::stores;
use workflow::{EventType, ExecutionStatus, RuntimeError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    id: u32,
}

#[derive(Debug, thiserror::Error, StepError)]
enum WorkError {
    #[error("the downstream service is down")]
    Down,
}

#[derive(Default)]
struct Service {
    up: AtomicBool,
    prepared: AtomicU32,
    worked: AtomicU32,
    left: AtomicU32,
    right: AtomicU32,
}

#[step]
async fn prepare(job: Job, service: Res<Service>) -> Job {
    service.prepared.fetch_add(1, Ordering::SeqCst);
    job
}

#[step]
async fn work(job: Job, service: Res<Service>) -> Result<u32, WorkError> {
    service.worked.fetch_add(1, Ordering::SeqCst);
    if service.up.load(Ordering::SeqCst) {
        Ok(job.id + 100)
    } else {
        Err(WorkError::Down)
    }
}

#[step]
async fn left(job: Job, service: Res<Service>) -> u32 {
    service.left.fetch_add(1, Ordering::SeqCst);
    job.id
}

#[step]
async fn right(job: Job, service: Res<Service>) -> Result<u32, WorkError> {
    service.right.fetch_add(1, Ordering::SeqCst);
    if service.up.load(Ordering::SeqCst) {
        Ok(job.id * 2)
    } else {
        Err(WorkError::Down)
    }
}

#[step]
async fn add(parts: (u32, u32)) -> u32 {
    parts.0 + parts.1
}

workflow! {
    Sequence: Standard<Job, u32> {
        start Prepare;
        Prepare: task prepare -> Work;
        Work: task work -> end;
    }
}

workflow! {
    Split: Standard<Job, u32> {
        start Both;
        Both: parallel {
            branch { start Left; Left: task left -> end; }
            branch { start Right; Right: task right -> end; }
        } -> Add;
        Add: task add -> end;
    }
}

fn runtime(store: Arc<dyn Store>, service: Arc<Service>) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .resource_arc(service)
        .register::<Sequence>()
        .register::<Split>()
        .build()
        .expect("builds")
}

#[tokio::test]
async fn a_failed_execution_is_redriven_from_the_state_that_failed() {
    for (label, store, _keep) in stores().await {
        let service = Arc::new(Service::default());
        let runtime = runtime(store, Arc::clone(&service));
        let handle = runtime.start::<Sequence>(Job { id: 1 }).await.expect(label);
        let failure = handle
            .result()
            .await
            .expect(label)
            .expect_err("the service is down");
        assert_eq!(failure.error(), "WorkError.Down", "{label}");

        let succeeded_early = runtime
            .redrive::<Sequence>(&workflow::ExecutionId::random())
            .await;
        assert!(
            matches!(succeeded_early, Err(RuntimeError::NoSuchExecution { .. })),
            "{label}"
        );

        // Named as another workflow, it is left as it is.
        let misnamed = runtime.redrive::<Split>(handle.id()).await;
        assert!(
            matches!(
                &misnamed,
                Err(RuntimeError::OtherWorkflow { expected, actual, .. })
                    if expected == "Split" && actual == "Sequence"
            ),
            "{label}: {misnamed:?}"
        );

        service.up.store(true, Ordering::SeqCst);
        let redriven = runtime.redrive::<Sequence>(handle.id()).await.expect(label);
        assert_eq!(redriven.id(), handle.id(), "{label}: the same execution");
        assert_eq!(redriven.result().await.expect(label), Ok(101), "{label}");
        assert_eq!(
            service.prepared.load(Ordering::SeqCst),
            1,
            "{label}: Prepare had finished"
        );
        assert_eq!(service.worked.load(Ordering::SeqCst), 2, "{label}");

        let events = runtime.history(handle.id(), 0, 100).await.expect(label);
        let kinds: Vec<EventType> = events.iter().map(|event| event.kind).collect();
        let failed = kinds
            .iter()
            .position(|kind| *kind == EventType::ExecutionFailed)
            .expect("the first end");
        assert_eq!(kinds[failed + 1], EventType::ExecutionRedriven, "{label}");
        assert_eq!(
            kinds.last(),
            Some(&EventType::ExecutionSucceeded),
            "{label}"
        );
        let entered_work = events
            .iter()
            .filter(|event| {
                event.kind == EventType::TaskStateEntered && event.state.as_deref() == Some("Work")
            })
            .count();
        assert_eq!(
            entered_work, 2,
            "{label}: Work entered again after the redrive"
        );
        for (index, event) in events.iter().enumerate() {
            assert_eq!(event.id, index as u64 + 1, "{label}");
        }
        assert_eq!(
            runtime.describe(handle.id()).await.expect(label).status,
            ExecutionStatus::Succeeded
        );

        let again = runtime.redrive::<Sequence>(handle.id()).await;
        assert!(
            matches!(again, Err(RuntimeError::NotRedrivable { .. })),
            "{label}: {again:?}"
        );
    }
}

#[tokio::test]
async fn only_the_failed_branch_of_a_parallel_state_runs_again() {
    let service = Arc::new(Service::default());
    let runtime = runtime(Arc::new(MemoryStore::new()), Arc::clone(&service));
    let handle = runtime.start::<Split>(Job { id: 3 }).await.expect("starts");
    handle
        .result()
        .await
        .expect("reads")
        .expect_err("the right branch fails");
    assert_eq!(
        (
            service.left.load(Ordering::SeqCst),
            service.right.load(Ordering::SeqCst)
        ),
        (1, 1)
    );

    service.up.store(true, Ordering::SeqCst);
    let redriven = runtime
        .redrive::<Split>(handle.id())
        .await
        .expect("redrives");
    assert_eq!(redriven.result().await.expect("reads"), Ok(3 + 6));
    assert_eq!(
        service.left.load(Ordering::SeqCst),
        1,
        "the left branch had finished"
    );
    assert_eq!(service.right.load(Ordering::SeqCst), 2);
}
