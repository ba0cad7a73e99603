//! Several workers on one store: executions are shared out by lease, each task runs once, a
//! dead worker's executions are taken over, and a worker that lost a lease writes nothing.
//! Every case runs on each store (memory, SQLite, PostgreSQL when configured).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{Fence, Store, StoreError};
use workflow::{EventType, ExecutionStatus, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    id: u32,
    /// Seconds the step takes (virtual time).
    seconds: u32,
}

/// Which worker ran which job, how many times.
#[derive(Default)]
struct Ledger {
    runs: Mutex<HashMap<u32, Vec<String>>>,
}

impl Ledger {
    /// Notes that `worker` ran job `id`.
    fn note(&self, id: u32, worker: &str) {
        let mut runs = self.runs.lock().unwrap();
        runs.entry(id).or_default().push(worker.to_owned());
    }

    fn runs_of(&self, id: u32) -> Vec<String> {
        self.runs
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }
}

/// The name of the worker a step runs on.
struct WorkerName(String);

#[step]
async fn work(job: Job, ledger: Res<Ledger>, me: Res<WorkerName>) -> u32 {
    ledger.note(job.id, &me.0);
    tokio::time::sleep(Duration::from_secs(u64::from(job.seconds))).await;
    job.id * 10
}

/// Notes the run and hands the job on.
#[step]
async fn begin(job: Job, ledger: Res<Ledger>, me: Res<WorkerName>) -> Job {
    ledger.note(job.id, &me.0);
    job
}

workflow! {
    /// Works once.
    Once: Standard<Job, u32> {
        start Work;
        Work: task work -> end;
    }
}

workflow! {
    /// Works; a lost worker is retried.
    Retried: Standard<Job, u32> {
        start Work;
        Work: task work -> end, retry States::TaskFailed { interval: 1s };
    }
}

workflow! {
    /// Works, waits an hour, works again.
    Patient: Standard<Job, u32> {
        start Before;
        Before: task begin -> Pause;
        Pause: wait 1h -> After;
        After: task work -> end;
    }
}

mod support {
    pub(crate) mod recorded;
    pub(crate) mod stores;
}
use support::recorded::time_between;
use support::stores::stores;

const LEASE: Duration = Duration::from_secs(10);

/// A claim round every 10 s: over an hour of virtual time, 360 rounds rather than 18,000.
const POLL_SLOWLY: Duration = Duration::from_secs(10);

fn worker(
    name: &str,
    store: &Arc<dyn Store>,
    ledger: &Arc<Ledger>,
    clock: &VirtualClock,
    capacity: usize,
) -> Runtime {
    worker_polling(
        name,
        store,
        ledger,
        clock,
        capacity,
        Duration::from_millis(200),
    )
}

/// A worker looking for executions to claim every `poll`.
fn worker_polling(
    name: &str,
    store: &Arc<dyn Store>,
    ledger: &Arc<Ledger>,
    clock: &VirtualClock,
    capacity: usize,
    poll: Duration,
) -> Runtime {
    Runtime::builder()
        .store_arc(Arc::clone(store))
        .clock(clock.clone())
        .resource_arc(Arc::clone(ledger))
        .resource(WorkerName(name.to_owned()))
        .register::<Once>()
        .register::<Retried>()
        .register::<Patient>()
        .lease(LEASE)
        .worker_name(name)
        .claim_every(poll, capacity)
        .build()
        .expect("builds")
}

/// A runtime that only submits and reads executions.
fn client(store: &Arc<dyn Store>, clock: &VirtualClock) -> Runtime {
    Runtime::builder()
        .store_arc(Arc::clone(store))
        .clock(clock.clone())
        .resource(Ledger::default())
        .resource(WorkerName("client".to_owned()))
        .register::<Once>()
        .register::<Retried>()
        .register::<Patient>()
        .build()
        .expect("builds")
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test(start_paused = true)]
async fn two_workers_share_the_executions_and_run_each_task_once() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let ledger = Arc::new(Ledger::default());
        let client = client(&store, &clock);
        let mut handles = Vec::new();
        for id in 0..40 {
            let name = format!("job-{id}");
            handles.push(
                client
                    .submit::<Once>(&name, Job { id, seconds: 1 })
                    .await
                    .unwrap(),
            );
        }
        // Submitted, nobody runs them yet.
        assert!(ledger.runs.lock().unwrap().is_empty(), "{label}");

        let first = worker("first", &store, &ledger, &clock, 8);
        let second = worker("second", &store, &ledger, &clock, 8);
        let _first = first.serve().unwrap();
        let _second = second.serve().unwrap();
        for (id, handle) in (0..40).zip(&handles) {
            assert_eq!(handle.result().await.unwrap().unwrap(), id * 10, "{label}");
        }

        let runs = ledger.runs.lock().unwrap().clone();
        assert_eq!(runs.len(), 40, "{label}: every job ran");
        assert!(
            runs.values().all(|workers| workers.len() == 1),
            "{label}: a job ran twice: {runs:?}"
        );
        let by_first = runs.values().filter(|w| w[0] == "first").count();
        let by_second = runs.values().filter(|w| w[0] == "second").count();
        assert!(
            by_first > 0 && by_second > 0,
            "{label}: both workers take work ({by_first} and {by_second})"
        );
        // Capacity 8 each: 40 one-second jobs take at least 40 / 16 rounds.
        assert!(clock.elapsed() >= Duration::from_secs(3), "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_stops_renewing_loses_its_executions_and_cannot_write_to_them() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let ledger = Arc::new(Ledger::default());
        let first = worker("first", &store, &ledger, &clock, 100);
        let client = client(&store, &clock);
        let started = first
            .start_named::<Once>("paused", Job { id: 7, seconds: 30 })
            .await
            .unwrap();
        // Followed from another runtime: `first` would wait for its own (doomed) run.
        let handle = client.handle::<Once>(started.id().clone());
        wait_until("the task started", || ledger.runs_of(7).len() == 1).await;
        // `first` holds the lease with token 1 but never serves, so it never renews: to the
        // others it is as good as dead, though its step is still running.
        let stale = Fence {
            worker: "first".to_owned(),
            token: 1,
        };

        tokio::time::sleep(LEASE + Duration::from_secs(1)).await;
        let second = worker("second", &store, &ledger, &clock, 100);
        let _second = second.serve().unwrap();
        let failure = handle.result().await.unwrap().unwrap_err();
        assert_eq!(failure.error(), "States.TaskFailed", "{label}");
        assert_eq!(ledger.runs_of(7), ["first"], "{label}: at most once");

        // The old holder can append nothing more.
        let refused = store
            .leases()
            .append_fenced(handle.id(), &stale, &[], None)
            .await;
        assert!(
            matches!(refused, Err(StoreError::LeaseLost { .. })),
            "{label}: {refused:?}"
        );
        // When its step ends, `first` cannot record the outcome: the history stays as is.
        tokio::time::sleep(Duration::from_secs(30)).await;
        let history = second.history(handle.id(), 0, 100).await.unwrap();
        let kinds: Vec<EventType> = history.iter().map(|event| event.kind).collect();
        assert_eq!(
            kinds
                .iter()
                .filter(|kind| **kind == EventType::TaskStarted)
                .count(),
            1,
            "{label}: {kinds:?}"
        );
        assert!(
            !kinds.contains(&EventType::TaskSucceeded),
            "{label}: {kinds:?}"
        );
        assert_eq!(kinds.last(), Some(&EventType::ExecutionFailed), "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_declared_retrier_runs_a_lost_task_again_on_the_new_holder() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let ledger = Arc::new(Ledger::default());
        let first = worker("first", &store, &ledger, &clock, 100);
        let _first = first.serve().unwrap();
        let client = client(&store, &clock);
        let handle = client
            .submit::<Retried>("lost", Job { id: 3, seconds: 60 })
            .await
            .unwrap();
        wait_until("the task started", || ledger.runs_of(3).len() == 1).await;
        // The worker dies mid-task: its loop and its executions stop, nothing more is written.
        first.shutdown();

        let second = worker("second", &store, &ledger, &clock, 100);
        let _second = second.serve().unwrap();
        assert_eq!(handle.result().await.unwrap().unwrap(), 30, "{label}");
        assert_eq!(ledger.runs_of(3), ["first", "second"], "{label}");
        let record = client.describe(handle.id()).await.unwrap();
        assert_eq!(record.status, ExecutionStatus::Succeeded, "{label}");
        // Taken over only once the lease ran out.
        assert!(clock.elapsed() >= LEASE, "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_long_wait_gives_the_lease_up_and_any_worker_resumes_the_execution_when_it_is_due() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let ledger = Arc::new(Ledger::default());
        let client = client(&store, &clock);
        let mut handles = Vec::new();
        for id in 0..4 {
            let name = format!("patient-{id}");
            handles.push(
                client
                    .submit::<Patient>(&name, Job { id, seconds: 0 })
                    .await
                    .unwrap(),
            );
        }
        let first = worker_polling("first", &store, &ledger, &clock, 100, POLL_SLOWLY);
        let serving = first.serve().unwrap();
        wait_until("every execution ran Before", || {
            (0..4).all(|id| ledger.runs_of(id).len() == 1)
        })
        .await;
        // Parked: `first` can stop for good without any execution being lost.
        tokio::time::sleep(Duration::from_secs(600)).await;
        drop(serving);
        first.shutdown();

        let second = worker_polling("second", &store, &ledger, &clock, 100, POLL_SLOWLY);
        let _second = second.serve().unwrap();
        for (id, handle) in (0..4).zip(&handles) {
            assert_eq!(handle.result().await.unwrap().unwrap(), id * 10, "{label}");
            assert_eq!(ledger.runs_of(id), ["first", "second"], "{label}");
            let history = client.history(handle.id(), 0, 100).await.unwrap();
            // Claimed again when due (give or take a claim round), not before.
            let waited = time_between(
                &history,
                EventType::WaitStateEntered,
                EventType::WaitStateExited,
            );
            assert!(
                waited >= Duration::from_secs(3600)
                    && waited <= Duration::from_secs(3600) + POLL_SLOWLY,
                "{label}: {waited:?}"
            );
            assert!(
                !history
                    .iter()
                    .any(|event| event.kind == EventType::TaskFailed),
                "{label}: parked, not lost"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_claims_back_what_it_parked() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let ledger = Arc::new(Ledger::default());
        let only = worker_polling("only", &store, &ledger, &clock, 100, POLL_SLOWLY);
        let _serving = only.serve().unwrap();
        let handle = only
            .start_named::<Patient>("alone", Job { id: 1, seconds: 0 })
            .await
            .unwrap();
        assert_eq!(handle.result().await.unwrap().unwrap(), 10, "{label}");
        assert_eq!(ledger.runs_of(1), ["only", "only"], "{label}");
        assert!(clock.elapsed() >= Duration::from_secs(3600), "{label}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_execution_stopped_elsewhere_takes_nothing_more_from_its_worker() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let ledger = Arc::new(Ledger::default());
        let first = worker("first", &store, &ledger, &clock, 100);
        let _serving = first.serve().unwrap();
        let client = client(&store, &clock);
        let handle = client
            .submit::<Once>("stopped", Job { id: 5, seconds: 2 })
            .await
            .unwrap();
        wait_until("the task started", || ledger.runs_of(5).len() == 1).await;
        client
            .stop(handle.id(), Some("Ops.Stopped"), Some("by hand"))
            .await
            .unwrap();
        // The worker's step ends 2 s later, before its next renewal would notice the stop:
        // what it records then is refused.
        tokio::time::sleep(Duration::from_secs(90)).await;
        let record = client.describe(handle.id()).await.unwrap();
        assert_eq!(record.status, ExecutionStatus::Aborted, "{label}");
        let history = client.history(handle.id(), 0, 100).await.unwrap();
        let kinds: Vec<EventType> = history.iter().map(|event| event.kind).collect();
        assert_eq!(
            kinds.last(),
            Some(&EventType::ExecutionAborted),
            "{label}: {kinds:?}"
        );
        assert!(
            !kinds.contains(&EventType::TaskSucceeded),
            "{label}: {kinds:?}"
        );
        assert_eq!(ledger.runs_of(5), ["first"], "{label}");
    }
}
