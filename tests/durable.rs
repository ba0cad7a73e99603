//! Durable executions on a store: start, idempotent names, results, history, and recovery
//! after a crash with at-most-once tasks and durable timers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{ExecutionFilter, SqliteStore, Store};
use workflow::{EventType, ExecutionStatus, RuntimeError, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    id: u32,
    hold: bool,
}

/// Counts how often each step really ran.
#[derive(Default)]
struct Ledger {
    prepared: AtomicU32,
    worked: AtomicU32,
}

#[step]
async fn prepare(job: Job, ledger: Res<Ledger>) -> Job {
    ledger.prepared.fetch_add(1, Ordering::SeqCst);
    job
}

/// Works; a held job never finishes (its worker is about to be lost).
#[step]
async fn work(job: Job, ledger: Res<Ledger>) -> u32 {
    ledger.worked.fetch_add(1, Ordering::SeqCst);
    if job.hold {
        std::future::pending::<()>().await;
    }
    job.id * 10
}

workflow! {
    /// Prepares, waits an hour, works.
    Pipeline: Standard<Job, u32> {
        start Prepare;
        Prepare: task prepare -> Pause;
        Pause: wait 1h -> Work;
        Work: task work -> end;
    }
}

workflow! {
    /// Like `Pipeline`, but a lost worker is retried.
    Forgiving: Standard<Job, u32> {
        start Work;
        Work: task work -> end, retry States::TaskFailed { interval: 1s };
    }
}

workflow! {
    /// Works at once.
    Direct: Standard<Job, u32> {
        start Work;
        Work: task work -> end;
    }
}

fn runtime(store: Arc<dyn Store>, ledger: Arc<Ledger>, clock: VirtualClock) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .clock(clock)
        .resource_arc(ledger)
        .register::<Pipeline>()
        .register::<Forgiving>()
        .register::<Direct>()
        .build()
        .expect("builds")
}

mod support {
    pub(crate) mod recorded;
    pub(crate) mod stores;
}
use support::recorded::{time_between, until_recorded};
use support::stores::stores;

#[tokio::test]
async fn a_started_execution_runs_in_the_background_and_its_history_is_stored() {
    for (label, store, _dir) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), VirtualClock::new());
        let handle = runtime
            .start::<Direct>(Job { id: 4, hold: false })
            .await
            .expect(label);
        assert_eq!(handle.result().await.expect(label), Ok(40), "{label}");
        let record = runtime.describe(handle.id()).await.expect(label);
        assert_eq!(record.status, ExecutionStatus::Succeeded, "{label}");
        assert_eq!(record.output, Some(serde_json::json!(40)), "{label}");
        assert_eq!(record.workflow, "Direct");
        let events = runtime.history(handle.id(), 0, 100).await.expect(label);
        use EventType::*;
        let kinds: Vec<EventType> = events.iter().map(|event| event.kind).collect();
        assert_eq!(
            kinds,
            [
                ExecutionStarted,
                TaskStateEntered,
                TaskScheduled,
                TaskStarted,
                TaskSucceeded,
                TaskStateExited,
                ExecutionSucceeded
            ],
            "{label}"
        );
        for (index, event) in events.iter().enumerate() {
            assert_eq!(
                (event.id, event.previous_event_id),
                (index as u64 + 1, index as u64),
                "{label}"
            );
        }
        // Paged reading.
        let page = runtime.history(handle.id(), 3, 2).await.expect(label);
        assert_eq!(
            page.iter().map(|event| event.id).collect::<Vec<_>>(),
            [4, 5],
            "{label}"
        );
        let listed = runtime
            .list(ExecutionFilter::all().workflow("Direct"))
            .await
            .expect(label);
        assert_eq!(listed.len(), 1, "{label}");
        // By name: only that execution.
        let named = runtime
            .start_named::<Direct>("named-5", Job { id: 5, hold: false })
            .await
            .expect(label);
        named.result().await.expect(label).expect(label);
        let by_name = runtime
            .list(ExecutionFilter::all().name("named-5"))
            .await
            .expect(label);
        assert_eq!(by_name.len(), 1, "{label}");
        assert_eq!(&by_name[0].id, named.id(), "{label}");
        assert_eq!(ledger.worked.load(Ordering::SeqCst), 2, "{label}");
    }
}

/// An output read back as a type it does not fit is a payload error that says so, with the
/// JSON error beneath it as its source.
#[tokio::test]
async fn an_output_read_as_another_type_keeps_the_json_error() {
    let ledger = Arc::new(Ledger::default());
    let runtime = runtime(
        Arc::new(workflow::store::MemoryStore::new()),
        ledger,
        VirtualClock::new(),
    );
    let handle = runtime
        .start::<Direct>(Job { id: 4, hold: false })
        .await
        .expect("starts");
    assert_eq!(handle.result().await.expect("ends"), Ok(40));
    // Read as the workflow of that name whose output changed to `String`.
    let error = runtime
        .handle::<v2::Direct>(handle.id().clone())
        .result()
        .await
        .expect_err("40 is no String");
    assert!(
        error
            .to_string()
            .contains("does not read as `alloc::string::String`"),
        "{error}"
    );
    let source = std::error::Error::source(&error).expect("a source");
    assert!(
        source.downcast_ref::<serde_json::Error>().is_some(),
        "{source:?}"
    );
}

#[tokio::test]
async fn starting_by_name_is_idempotent() {
    for (label, store, _dir) in stores().await {
        let runtime = runtime(store, Arc::default(), VirtualClock::new());
        let held = Job { id: 1, hold: true };
        let first = runtime
            .start_named::<Direct>("order-1", held.clone())
            .await
            .expect(label);
        let again = runtime
            .start_named::<Direct>("order-1", held.clone())
            .await
            .expect(label);
        assert_eq!(
            first.id(),
            again.id(),
            "{label}: same name, same input: the same execution"
        );
        let different = runtime
            .start_named::<Direct>("order-1", Job { id: 2, hold: true })
            .await;
        assert!(
            matches!(different, Err(RuntimeError::ExecutionAlreadyExists { .. })),
            "{label}: {different:?}"
        );
        let done = runtime
            .start_named::<Direct>("order-2", Job { id: 2, hold: false })
            .await
            .expect(label);
        done.result().await.expect(label).expect("succeeds");
        let closed = runtime
            .start_named::<Direct>("order-2", Job { id: 2, hold: false })
            .await;
        assert!(
            matches!(closed, Err(RuntimeError::ExecutionAlreadyExists { .. })),
            "{label}"
        );
        for bad in ["", "has space", "a*", &"x".repeat(81)] {
            let refused = runtime
                .start_named::<Direct>(bad, Job { id: 3, hold: false })
                .await;
            assert!(
                matches!(refused, Err(RuntimeError::InvalidName { .. })),
                "{label}: {bad:?}"
            );
        }
        runtime.shutdown();
    }
}

#[tokio::test]
async fn a_task_whose_worker_was_lost_is_not_run_again_without_a_retrier() {
    for (label, store, _dir) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let before = runtime(Arc::clone(&store), Arc::clone(&ledger), VirtualClock::new());
        let handle = before
            .start::<Direct>(Job { id: 7, hold: true })
            .await
            .expect(label);
        until_recorded(&before, handle.id(), EventType::TaskStarted).await;
        // TaskStarted is durable before the step is first polled: wait for the step itself.
        while ledger.worked.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        before.shutdown(); // The worker is lost mid-task.

        let after = runtime(store, Arc::clone(&ledger), VirtualClock::new());
        assert_eq!(
            after.recover().await.expect(label).resumed,
            [handle.id().clone()],
            "{label}"
        );
        let failure = after
            .handle::<Direct>(handle.id().clone())
            .result()
            .await
            .expect(label)
            .expect_err("fails");
        assert_eq!(failure.error(), "States.TaskFailed", "{label}");
        assert!(
            failure.cause().contains("was lost before it finished"),
            "{label}: {}",
            failure.cause()
        );
        assert_eq!(
            ledger.worked.load(Ordering::SeqCst),
            1,
            "{label}: ran once, not twice"
        );
        let events = after.history(handle.id(), 0, 100).await.expect(label);
        let started = events
            .iter()
            .filter(|event| event.kind == EventType::TaskStarted)
            .count();
        assert_eq!(started, 1, "{label}");
        assert_eq!(
            events.last().map(|event| event.kind),
            Some(EventType::ExecutionFailed),
            "{label}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_declared_retrier_runs_a_lost_task_again() {
    for (label, store, _keep) in stores().await {
        let _ = label;
        let ledger = Arc::new(Ledger::default());
        let before = runtime(Arc::clone(&store), Arc::clone(&ledger), VirtualClock::new());
        let handle = before
            .start::<Forgiving>(Job { id: 3, hold: true })
            .await
            .expect("starts");
        until_recorded(&before, handle.id(), EventType::TaskStarted).await;
        // TaskStarted is durable before the step is first polled: wait for the step itself.
        while ledger.worked.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        before.shutdown();

        // The job is no longer held when it runs again (the stored input still says hold, so
        // the retried attempt holds too: it is the second run that shows the retrier worked).
        let after = runtime(store, Arc::clone(&ledger), VirtualClock::new());
        after.recover().await.expect("recovers");
        until_recorded(&after, handle.id(), EventType::TaskScheduled).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            ledger.worked.load(Ordering::SeqCst),
            2,
            "the retrier ran the lost task again"
        );
        let events = after.history(handle.id(), 0, 100).await.expect("history");
        let failed = events
            .iter()
            .find(|event| event.kind == EventType::TaskFailed)
            .expect("the loss is recorded");
        assert_eq!(failed.error.as_deref(), Some("States.TaskFailed"));
        assert_eq!(failed.retry_in, Some(Duration::from_secs(1)));
        after.shutdown();
    }
}

#[tokio::test(start_paused = true)]
async fn timers_survive_a_restart_and_finished_tasks_are_not_rerun() {
    for (label, store, _dir) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let clock = VirtualClock::new();
        let before = runtime(Arc::clone(&store), Arc::clone(&ledger), clock.clone());
        let handle = before
            .start::<Pipeline>(Job { id: 5, hold: false })
            .await
            .expect(label);
        until_recorded(&before, handle.id(), EventType::WaitStateEntered).await;
        tokio::time::sleep(Duration::from_secs(600)).await;
        before.shutdown(); // Down ten minutes into the hour.

        tokio::time::sleep(Duration::from_secs(300)).await; // Five minutes without a worker.
        let after = runtime(store, Arc::clone(&ledger), clock);
        after.recover().await.expect(label);
        let output = after
            .handle::<Pipeline>(handle.id().clone())
            .result()
            .await
            .expect(label);
        assert_eq!(output, Ok(50), "{label}");
        assert_eq!(
            ledger.prepared.load(Ordering::SeqCst),
            1,
            "{label}: Prepare finished before the crash"
        );
        assert_eq!(ledger.worked.load(Ordering::SeqCst), 1, "{label}");

        let events = after.history(handle.id(), 0, 100).await.expect(label);
        let waited = time_between(
            &events,
            EventType::WaitStateEntered,
            EventType::WaitStateExited,
        );
        assert_eq!(
            waited,
            Duration::from_secs(3600),
            "{label}: woke when it was due, not an hour after the restart"
        );
        // One unbroken history: every id once, in order.
        for (index, event) in events.iter().enumerate() {
            assert_eq!(event.id, index as u64 + 1, "{label}");
        }
        assert_eq!(
            events
                .iter()
                .filter(|event| event.kind == EventType::WaitStateEntered)
                .count(),
            1,
            "{label}"
        );
    }
}

mod v2 {
    use super::*;

    #[step]
    async fn other(job: Job) -> u32 {
        job.id
    }

    #[step]
    async fn named(job: Job) -> String {
        job.id.to_string()
    }

    workflow! {
        /// The same name as the first `Direct`, another output type (a changed workflow).
        pub(super) Direct: Standard<Job, String> {
            start Name;
            Name: task named -> end;
        }
    }

    workflow! {
        /// The same name as the first `Pipeline`, different states.
        pub(super) Pipeline: Standard<Job, u32> {
            start Other;
            Other: task other -> end;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_execution_of_a_changed_workflow_fails_clearly_instead_of_misbehaving() {
    for (label, store, _keep) in stores().await {
        let _ = label;
        let ledger = Arc::new(Ledger::default());
        let before = runtime(Arc::clone(&store), Arc::clone(&ledger), VirtualClock::new());
        let handle = before
            .start::<Pipeline>(Job { id: 9, hold: false })
            .await
            .expect("starts");
        until_recorded(&before, handle.id(), EventType::WaitStateEntered).await;
        before.shutdown();

        let after = Runtime::builder()
            .store_arc(store)
            .clock(VirtualClock::new())
            .register::<v2::Pipeline>()
            .build()
            .expect("builds");
        after.recover().await.expect("recovers");
        let failure = after
            .handle::<v2::Pipeline>(handle.id().clone())
            .result()
            .await
            .expect("reads")
            .expect_err("fails");
        assert_eq!(failure.error(), "States.Runtime");
        assert!(
            failure.cause().contains("cannot resume"),
            "{}",
            failure.cause()
        );
        assert!(
            failure.cause().contains("state `Prepare`"),
            "{}",
            failure.cause()
        );
    }
}

#[tokio::test]
async fn unreadable_stored_data_fails_that_execution_only() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("executions.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("opens"));
    let ledger = Arc::new(Ledger::default());
    let before = runtime(Arc::clone(&store), Arc::clone(&ledger), VirtualClock::new());
    let broken = before
        .start::<Pipeline>(Job { id: 1, hold: false })
        .await
        .expect("starts");
    let healthy = before
        .start::<Pipeline>(Job { id: 2, hold: false })
        .await
        .expect("starts");
    until_recorded(&before, broken.id(), EventType::WaitStateEntered).await;
    until_recorded(&before, healthy.id(), EventType::WaitStateEntered).await;
    before.shutdown();
    drop(before);
    drop(store);

    // The first execution's stored input no longer fits `Job`.
    let connection = rusqlite::Connection::open(&path).expect("opens");
    connection
        .execute(
            "UPDATE executions SET input = '{\"id\": \"one\"}' WHERE id = ?1",
            [broken.id().as_str()],
        )
        .expect("updates");
    drop(connection);

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopens"));
    let after = runtime(store, Arc::clone(&ledger), VirtualClock::new());
    let recovery = after.recover().await.expect("recovers");
    assert_eq!(recovery.resumed, [healthy.id().clone()]);
    assert_eq!(recovery.unreadable.len(), 1);
    assert_eq!(&recovery.unreadable[0].0, broken.id());
    let record = after.describe(broken.id()).await.expect("described");
    assert_eq!(record.status, ExecutionStatus::Failed);
    assert_eq!(record.error.as_deref(), Some("States.Runtime"));
    assert!(record
        .cause
        .as_deref()
        .is_some_and(|cause| cause.contains("does not read as")));
    after.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_executions_share_commits() {
    for (label, store, _keep) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), VirtualClock::new());
        let mut handles = Vec::new();
        for id in 0..200 {
            handles.push(
                runtime
                    .start::<Direct>(Job { id, hold: false })
                    .await
                    .expect(label),
            );
        }
        for (id, handle) in handles.iter().enumerate() {
            assert_eq!(
                handle.result().await.expect(label),
                Ok(id as u32 * 10),
                "{label}"
            );
        }
        assert_eq!(ledger.worked.load(Ordering::SeqCst), 200, "{label}");
        let succeeded = runtime
            .list(ExecutionFilter::all().status(ExecutionStatus::Succeeded))
            .await
            .expect(label);
        assert_eq!(succeeded.len(), 200, "{label}");
    }
}

#[tokio::test]
async fn stopping_an_execution_cancels_it_and_ends_its_history() {
    for (label, store, _dir) in stores().await {
        let ledger = Arc::new(Ledger::default());
        let runtime = runtime(store, Arc::clone(&ledger), VirtualClock::new());
        let handle = runtime
            .start::<Direct>(Job { id: 8, hold: true })
            .await
            .expect(label);
        until_recorded(&runtime, handle.id(), EventType::TaskStarted).await;
        runtime
            .stop(
                handle.id(),
                Some("Cancelled"),
                Some("the customer changed their mind"),
            )
            .await
            .expect(label);
        let failure = handle.result().await.expect(label).expect_err("aborted");
        assert_eq!(
            (failure.error(), failure.cause()),
            ("Cancelled", "the customer changed their mind"),
            "{label}"
        );
        let record = runtime.describe(handle.id()).await.expect(label);
        assert_eq!(record.status, ExecutionStatus::Aborted, "{label}");
        let events = runtime.history(handle.id(), 0, 100).await.expect(label);
        assert_eq!(
            events.last().map(|event| event.kind),
            Some(EventType::ExecutionAborted),
            "{label}"
        );
        for (index, event) in events.iter().enumerate() {
            assert_eq!(event.id, index as u64 + 1, "{label}");
        }
        let again = runtime.stop(handle.id(), None, None).await;
        assert!(
            matches!(again, Err(RuntimeError::NotRunning { .. })),
            "{label}: {again:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_purge_in_batches_deletes_at_most_a_batch_at_a_time() {
    for (label, store, _dir) in stores().await {
        let clock = VirtualClock::new();
        let runtime = runtime(Arc::clone(&store), Arc::default(), clock.clone());
        for id in 0..5 {
            let handle = runtime
                .start::<Direct>(Job { id, hold: false })
                .await
                .expect(label);
            handle.result().await.expect(label).expect("succeeds");
        }
        let running = runtime
            .start::<Direct>(Job { id: 9, hold: true })
            .await
            .expect(label);
        tokio::time::sleep(Duration::from_secs(60)).await;
        let now = workflow::Clock::now(&clock);
        let mut sizes = Vec::new();
        for _ in 0..4 {
            sizes.push(store.purge_batch(now, 2).await.expect(label));
        }
        assert_eq!(sizes, [2, 2, 1, 0], "{label}");
        // The running execution stays.
        assert_eq!(
            runtime
                .list(ExecutionFilter::all())
                .await
                .expect(label)
                .len(),
            1,
            "{label}"
        );
        runtime.describe(running.id()).await.expect(label);
    }
}

#[tokio::test(start_paused = true)]
async fn ended_executions_are_purged_after_the_retention_period() {
    for (label, store, _dir) in stores().await {
        let clock = VirtualClock::new();
        let runtime = Runtime::builder()
            .store_arc(store)
            .clock(clock.clone())
            .resource(Ledger::default())
            .register::<Direct>()
            .retention(Duration::from_secs(24 * 3600))
            .build()
            .expect(label);
        let old = runtime
            .start::<Direct>(Job { id: 1, hold: false })
            .await
            .expect(label);
        old.result().await.expect(label).expect("succeeds");
        let running = runtime
            .start::<Direct>(Job { id: 2, hold: true })
            .await
            .expect(label);
        tokio::time::sleep(Duration::from_secs(2 * 24 * 3600)).await;
        let recent = runtime
            .start::<Direct>(Job { id: 3, hold: false })
            .await
            .expect(label);
        recent.result().await.expect(label).expect("succeeds");

        assert_eq!(runtime.purge_expired().await.expect(label), 1, "{label}");
        assert!(
            matches!(
                runtime.describe(old.id()).await,
                Err(RuntimeError::NoSuchExecution { .. })
            ),
            "{label}"
        );
        assert!(
            runtime
                .history(old.id(), 0, 10)
                .await
                .expect(label)
                .is_empty(),
            "{label}"
        );
        runtime
            .describe(running.id())
            .await
            .expect("a running execution is kept");
        runtime
            .describe(recent.id())
            .await
            .expect("a recent one is kept");
        runtime.shutdown();
    }
}
