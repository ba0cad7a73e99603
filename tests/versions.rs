//! Versions of one workflow side by side: every execution records the version it started on
//! and resumes on it; starts by name take the latest; a process without an execution's
//! version leaves it as it is.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use workflow::prelude::*;
use workflow::store::{OpenVersion, Store};
use workflow::{EventType, ExecutionId, ExecutionStatus, RuntimeBuilder, VirtualClock};

mod support {
    pub(crate) mod recorded;
    pub(crate) mod stores;
}
use support::recorded::{time_between, until_recorded};
use support::stores::stores;

/// Which worker ran which step, for which order.
#[derive(Default)]
struct Ledger(Mutex<Vec<(String, &'static str, u64)>>);

impl Ledger {
    fn note(&self, worker: &WorkerName, step: &'static str, order: u64) {
        self.0.lock().unwrap().push((worker.0.clone(), step, order));
    }

    fn runs(&self) -> Vec<(String, &'static str, u64)> {
        self.0.lock().unwrap().clone()
    }
}

struct WorkerName(String);

#[step]
async fn ship(order: u64, ledger: Res<Ledger>, me: Res<WorkerName>) -> String {
    ledger.note(&me, "ship", order);
    format!("shipped {order}")
}

#[step]
async fn pack(order: u64, ledger: Res<Ledger>, me: Res<WorkerName>) -> u64 {
    ledger.note(&me, "pack", order);
    order * 10
}

#[step]
async fn ship_packed(parcel: u64, ledger: Res<Ledger>, me: Res<WorkerName>) -> String {
    ledger.note(&me, "ship_packed", parcel / 10);
    format!("packed and shipped {parcel}")
}

mod v1 {
    use super::*;

    workflow! {
        /// Holds an order a day, then ships it.
        pub(crate) Order: Standard<u64, String> {
            start Hold;
            Hold: wait 1d -> Ship;
            Ship: task ship -> end;
        }
    }
}

mod v2 {
    use super::*;

    workflow! {
        /// Holds an order a day, packs it, then ships it.
        #[version(2)]
        pub(crate) Order: Standard<u64, String> {
            start Hold;
            Hold: wait 1d -> Pack;
            Pack: task pack -> Ship;
            Ship: task ship_packed -> end;
        }
    }
}

/// A runtime on `store` with the given versions of `Order`.
fn runtime(store: &Arc<dyn Store>, clock: &VirtualClock, versions: &[u32]) -> Runtime {
    builder(store, clock, versions, "solo", &Arc::default())
        .build()
        .expect("builds")
}

/// A runtime's builder on `store` with the given versions of `Order`, its steps noting in
/// `ledger` that `worker` ran them.
fn builder(
    store: &Arc<dyn Store>,
    clock: &VirtualClock,
    versions: &[u32],
    worker: &str,
    ledger: &Arc<Ledger>,
) -> RuntimeBuilder {
    let mut builder = Runtime::builder()
        .store_arc(Arc::clone(store))
        .clock(clock.clone())
        .resource_arc(Arc::clone(ledger))
        .resource(WorkerName(worker.to_owned()));
    for version in versions {
        builder = match version {
            1 => builder.register::<v1::Order>(),
            _ => builder.register::<v2::Order>(),
        };
    }
    builder
}

/// The names of the states an execution entered, in order.
async fn states_entered(runtime: &Runtime, id: &ExecutionId) -> Vec<String> {
    let events = runtime.history(id, 0, 1_000).await.expect("reads");
    events
        .iter()
        .filter(|event| event.kind.to_string().ends_with("StateEntered"))
        .filter_map(|event| event.state.as_deref().map(str::to_owned))
        .collect()
}

#[test]
fn versions_are_declared_and_the_first_is_one() {
    assert_eq!(v1::Order::definition().version, 1);
    assert_eq!(v2::Order::definition().version, 2);
    assert_eq!(v1::Order::definition().name, v2::Order::definition().name);
    // An unversioned definition serialises as it did before versions existed, so that the
    // fingerprints executions recorded still match.
    let json = serde_json::to_value(v1::Order::definition()).expect("serialises");
    assert!(json.get("version").is_none(), "{json}");
    let json = serde_json::to_value(v2::Order::definition()).expect("serialises");
    assert_eq!(json.get("version"), Some(&json!(2)));
}

#[tokio::test(start_paused = true)]
async fn parked_executions_finish_on_their_version_and_new_starts_take_the_latest() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let before = runtime(&store, &clock, &[1]);
        let mut started = Vec::new();
        for order in 0..50 {
            let handle = before.start::<v1::Order>(order).await.expect(label);
            started.push((order, handle.id().clone()));
        }
        for (_, id) in &started {
            until_recorded(&before, id, EventType::WaitStateEntered).await;
        }
        before.shutdown();

        // The new process has both versions.
        let after = runtime(&store, &clock, &[1, 2]);
        let recovery = after.recover().await.expect(label);
        assert_eq!(recovery.resumed.len(), 50, "{label}");
        assert!(recovery.elsewhere.is_empty(), "{label}");
        let by_name = after
            .start_json("Order", Some("by-name"), json!(7))
            .await
            .expect(label);
        let by_type = after.start::<v1::Order>(8).await.expect(label);

        tokio::time::sleep(Duration::from_secs(86_400)).await;
        for (order, id) in &started {
            let output = after
                .handle::<v1::Order>(id.clone())
                .result()
                .await
                .expect(label);
            assert_eq!(output, Ok(format!("shipped {order}")), "{label}");
            let record = after.describe(id).await.expect(label);
            assert_eq!(record.version, 1, "{label}");
            assert_eq!(
                states_entered(&after, id).await,
                ["Hold", "Ship"],
                "{label}: v1's states only"
            );
        }
        let output = after
            .handle::<v2::Order>(by_name.id().clone())
            .result()
            .await
            .expect(label);
        assert_eq!(output, Ok("packed and shipped 70".to_owned()), "{label}");
        assert_eq!(after.describe(by_name.id()).await.expect(label).version, 2);
        assert_eq!(
            states_entered(&after, by_name.id()).await,
            ["Hold", "Pack", "Ship"],
            "{label}"
        );
        let output = by_type.result().await.expect(label);
        assert_eq!(
            output,
            Ok("shipped 8".to_owned()),
            "{label}: the caller's version"
        );
        assert_eq!(after.describe(by_type.id()).await.expect(label).version, 1);
    }
}

#[tokio::test(start_paused = true)]
async fn an_execution_whose_version_is_not_here_is_left_as_it_is_and_reported() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let first = runtime(&store, &clock, &[1, 2]);
        let handle = first.start::<v2::Order>(3).await.expect(label);
        until_recorded(&first, handle.id(), EventType::WaitStateEntered).await;
        first.shutdown();

        // A process with version 1 only: the execution stays running, untouched, counted.
        let old = runtime(&store, &clock, &[1]);
        let recovery = old.recover().await.expect(label);
        assert!(recovery.resumed.is_empty(), "{label}");
        assert!(recovery.unreadable.is_empty(), "{label}");
        assert_eq!(
            recovery.elsewhere,
            [OpenVersion {
                workflow: "Order".to_owned(),
                version: 2,
                executions: 1,
            }],
            "{label}"
        );
        let record = old.describe(handle.id()).await.expect(label);
        assert_eq!(record.status, ExecutionStatus::Running, "{label}");
        old.shutdown();

        // One that has it finishes it.
        let new = runtime(&store, &clock, &[1, 2]);
        let recovery = new.recover().await.expect(label);
        assert_eq!(recovery.resumed, [handle.id().clone()], "{label}");
        tokio::time::sleep(Duration::from_secs(86_400)).await;
        let output = new
            .handle::<v2::Order>(handle.id().clone())
            .result()
            .await
            .expect(label);
        assert_eq!(output, Ok("packed and shipped 30".to_owned()), "{label}");
    }
}

#[test]
fn the_same_name_and_version_twice_is_refused_and_two_versions_are_not() {
    mod again {
        use super::*;

        workflow! {
            /// Another declaration of version 2.
            #[version(2)]
            pub(crate) Order: Standard<u64, String> {
                start Ship;
                Ship: task ship -> end;
            }
        }
    }
    let refused = Runtime::builder()
        .resource(Ledger::default())
        .resource(WorkerName("solo".to_owned()))
        .register::<v2::Order>()
        .register::<again::Order>()
        .build()
        .expect_err("refused");
    let text = refused.to_string();
    assert!(
        text.contains("`Order`, both version 2"),
        "the message names the name and version: {text}"
    );
    Runtime::builder()
        .resource(Ledger::default())
        .resource(WorkerName("solo".to_owned()))
        .register::<v1::Order>()
        .register::<v2::Order>()
        .build()
        .expect("two versions of one name");
}

#[tokio::test(start_paused = true)]
async fn in_a_rolling_deploy_each_worker_claims_only_the_versions_it_has() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let ledger = Arc::new(Ledger::default());
        let client = runtime(&store, &clock, &[1, 2]);
        let mut old_orders = Vec::new();
        let mut new_orders = Vec::new();
        for order in 0..20 {
            let name = format!("old-{order}");
            old_orders.push(client.submit::<v1::Order>(&name, order).await.expect(label));
            let name = format!("new-{order}");
            new_orders.push(client.submit::<v2::Order>(&name, order).await.expect(label));
        }
        // Long leases and rare claims: a day of virtual time in few rounds.
        let worker = |name: &str, versions: &[u32]| {
            builder(&store, &clock, versions, name, &ledger)
                .lease(Duration::from_secs(3_600))
                .worker_name(name)
                .claim_every(Duration::from_secs(600), 100)
                .build()
                .expect("builds")
        };
        let old = worker("old", &[1]);
        let _old = old.serve().expect(label);
        tokio::time::sleep(Duration::from_secs(60)).await;
        for handle in &new_orders {
            let events = client.history(handle.id(), 0, 10).await.expect(label);
            assert_eq!(
                events.len(),
                1,
                "{label}: a v2 execution untouched by the v1 worker"
            );
        }
        let new = worker("new", &[1, 2]);
        let _new = new.serve().expect(label);

        for (order, handle) in (0..20).zip(&old_orders) {
            let output = handle.result().await.expect(label);
            assert_eq!(output, Ok(format!("shipped {order}")), "{label}");
        }
        for (order, handle) in (0..20).zip(&new_orders) {
            let output = handle.result().await.expect(label);
            assert_eq!(
                output,
                Ok(format!("packed and shipped {}", order * 10)),
                "{label}"
            );
        }
        // Claimed as soon as a worker with v2 came: not held back by the v1 worker's leases.
        for handle in &new_orders {
            let events = client.history(handle.id(), 0, 10).await.expect(label);
            let waited = time_between(
                &events,
                EventType::ExecutionStarted,
                EventType::WaitStateEntered,
            );
            assert!(waited < Duration::from_secs(600), "{label}: {waited:?}");
        }
        let runs = ledger.runs();
        assert_eq!(runs.len(), 20 + 40, "{label}: every step once: {runs:?}");
        for (worker, step, order) in &runs {
            match *step {
                "pack" | "ship_packed" => assert_eq!(worker, "new", "{label}: order {order}"),
                _ => assert_eq!(
                    worker, "old",
                    "{label}: v1 order {order} stays with its worker"
                ),
            }
        }
    }
}

mod v1_renamed {
    use super::*;

    workflow! {
        /// Version 1 changed in place: its wait renamed, which executions in it cannot follow.
        pub(crate) Order: Standard<u64, String> {
            start Delay;
            Delay: wait 1d -> Ship;
            Ship: task ship -> end;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_deploy_check_names_what_a_binary_could_not_resume() {
    for (label, store, _keep) in stores().await {
        let clock = VirtualClock::new();
        let running = runtime(&store, &clock, &[1, 2]);
        let mut started = Vec::new();
        for order in 0..3 {
            started.push(running.start::<v1::Order>(order).await.expect(label));
        }
        started.push(running.start::<v2::Order>(9).await.expect(label));
        for handle in &started {
            until_recorded(&running, handle.id(), EventType::WaitStateEntered).await;
        }
        let check = running.check_deploy().await.expect(label);
        assert!(check.ok(), "{label}: {check}");
        assert_eq!(check.versions.len(), 2, "{label}: {check}");
        assert_eq!(check.versions[0].executions, 3, "{label}");
        assert_eq!(
            check.versions[0].states.get("Hold"),
            Some(&3),
            "{label}: {check}"
        );
        running.shutdown();

        // A binary with version 2 only: version 1's three executions would be left.
        let newer = Runtime::builder()
            .store_arc(Arc::clone(&store))
            .clock(clock.clone())
            .resource(Ledger::default())
            .resource(WorkerName("newer".to_owned()))
            .register::<v2::Order>()
            .build()
            .expect("builds");
        let check = newer.check_deploy().await.expect(label);
        assert!(!check.ok(), "{label}: {check}");
        let text = check.to_string();
        assert!(
            text.contains("Order version 1: 3 running, NOT resumable here"),
            "{label}: {text}"
        );
        assert!(
            text.contains("version 1 of `Order` is not registered here"),
            "{label}: {text}"
        );
        assert!(
            text.contains("Order version 2: 1 running, resumable here"),
            "{label}: {text}"
        );

        // A binary whose version 1 renamed the state its executions wait in.
        let renamed = Runtime::builder()
            .store_arc(Arc::clone(&store))
            .clock(clock.clone())
            .resource(Ledger::default())
            .resource(WorkerName("renamed".to_owned()))
            .register::<v1_renamed::Order>()
            .register::<v2::Order>()
            .build()
            .expect("builds");
        let check = renamed.check_deploy().await.expect(label);
        assert!(!check.ok(), "{label}: {check}");
        let version_one = &check.versions[0];
        assert_eq!(version_one.changed, 3, "{label}: {check}");
        assert_eq!(
            version_one.problems,
            ["3 execution(s) went through state `Hold`, which the registered version 1 no longer declares"],
            "{label}"
        );
    }
}
