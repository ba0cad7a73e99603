//! The keeper (renewing leases, claiming what is free) racing the executions it keeps: an
//! execution that starts, or parks, while a renewal is under way is not stopped by it, and
//! none of its tasks runs twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use workflow::prelude::*;
use workflow::store::Store;

use crate::faulty_store::Flaky;
use crate::support::stores::stores;

/// Holds every task until opened, and counts how often each task of each execution ran.
struct Gate {
    open: watch::Sender<bool>,
    runs: Mutex<HashMap<(String, String), u32>>,
}

impl Gate {
    fn new() -> Arc<Self> {
        Arc::new(Gate {
            open: watch::Sender::new(false),
            runs: Mutex::default(),
        })
    }

    /// The tasks that ran more than once.
    fn reruns(&self) -> Vec<((String, String), u32)> {
        let runs = self.runs.lock().unwrap();
        runs.iter()
            .filter(|(_, count)| **count > 1)
            .map(|(task, count)| (task.clone(), *count))
            .collect()
    }
}

#[step]
async fn gated(number: u32, ctx: StepContext, gate: Res<Gate>) -> u32 {
    *gate
        .runs
        .lock()
        .unwrap()
        .entry((ctx.execution_id().to_string(), ctx.state().to_owned()))
        .or_default() += 1;
    let mut open = gate.open.subscribe();
    let _ = open.wait_for(|open| *open).await;
    number + 1
}

workflow! {
    /// One task, held until the gate opens.
    Gated: Standard<u32, u32> {
        start Work;
        Work: task gated -> end;
    }
}

workflow! {
    /// A task, a wait longer than the lease (it parks), a task.
    GatedThenParked: Standard<u32, u32> {
        start First;
        First: task gated -> Pause;
        Pause: wait 5s -> Last;
        Last: task gated -> end;
    }
}

/// A worker whose lease lasts a second: its keeper renews every third of a second, and its
/// waits longer than a second park.
fn worker(store: Arc<dyn Store>, gate: Arc<Gate>) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .resource_arc(gate)
        .lease(Duration::from_secs(1))
        .register::<Gated>()
        .register::<GatedThenParked>()
        .build()
        .expect("builds")
}

/// A renewal asks the store about the executions running when it began. One started while it
/// was under way was not among them: it keeps running, and its task runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_started_during_a_renewal_keeps_running() {
    for (label, store, _keep) in stores().await {
        let flaky = Flaky::new(store);
        let gate = Gate::new();
        let runtime = worker(flaky.clone(), Arc::clone(&gate));
        // One running execution, so that the keeper renews.
        let first = runtime.start::<Gated>(1).await.expect(label);

        flaky.hold_renewals(true);
        flaky.renewals_asked(flaky.renewals() + 1).await;
        let claims = flaky.claims();
        let second = runtime.start::<Gated>(2).await.expect(label);
        flaky.hold_renewals(false);
        // The keeper's round claims once its renewal has ended.
        flaky.claims_asked(claims + 1).await;

        gate.open.send_replace(true);
        assert_eq!(first.result().await.expect(label), Ok(2), "{label}");
        assert_eq!(second.result().await.expect(label), Ok(3), "{label}");
        assert_eq!(gate.reruns(), [], "{label}: every task ran once");
    }
}

/// An execution parks (gives its lease up) while a renewal that asks about it is under way:
/// the renewal no longer finds its lease and stops its run, but the runtime still knows when
/// to wake it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_parking_during_a_renewal_is_woken_by_its_runtime() {
    for (label, store, _keep) in stores().await {
        let flaky = Flaky::new(store);
        let gate = Gate::new();
        let runtime = worker(flaky.clone(), Arc::clone(&gate));
        let handle = runtime.start::<GatedThenParked>(1).await.expect(label);

        // A renewal asks about the execution while its first task runs.
        flaky.hold_renewals(true);
        flaky.renewals_asked(flaky.renewals() + 1).await;
        let claims = flaky.claims();
        // The execution parks; the store applies it, its answer waits.
        flaky.hold_park_answers(true);
        gate.open.send_replace(true);
        flaky.parks_applied(1).await;
        // The renewal reaches the store, and its round ends, before the execution hears back.
        flaky.hold_renewals(false);
        flaky.claims_asked(claims + 1).await;
        flaky.hold_park_answers(false);

        assert_eq!(
            runtime.parked(),
            1,
            "{label}: the runtime wakes it when due"
        );
        assert_eq!(handle.result().await.expect(label), Ok(3), "{label}");
        assert_eq!(gate.reruns(), [], "{label}: every task ran once");
        assert_eq!(runtime.parked(), 0, "{label}");
    }
}
