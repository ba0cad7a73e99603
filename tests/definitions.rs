//! Definitions recorded in the store when a runtime first uses it, so that tools can draw any
//! workflow and execution without the code. Runs on every store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;
use std::time::Duration;

use workflow::prelude::*;
use workflow::store::Store;
use workflow::VirtualClock;

#[step]
async fn double(value: u32) -> u32 {
    value * 2
}

workflow! {
    /// Doubles, waits, doubles.
    Twice: Standard<u32, u32> {
        start First;
        First: task double -> Pause;
        Pause: wait 1s -> Second;
        Second: task double -> end;
    }
}

workflow! {
    /// Doubles once.
    Once: Standard<u32, u32> {
        start Only;
        Only: task double -> end;
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
        .register::<Twice>()
        .register::<Once>()
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_runtime_records_its_definitions_and_an_execution_finds_the_one_it_ran() {
    for (label, store, _keep) in stores().await {
        let definitions = store
            .definitions()
            .expect("every store here keeps definitions");
        let clock = VirtualClock::new();
        // Building a runtime writes nothing yet.
        let first = runtime(&store, &clock);
        assert!(
            definitions.latest_definitions().await.unwrap().is_empty(),
            "{label}"
        );

        let handle = first.start_named::<Twice>("t-1", 5).await.unwrap();
        assert_eq!(handle.result().await.unwrap().unwrap(), 20, "{label}");
        let recorded = definitions.latest_definitions().await.unwrap();
        let names: Vec<&str> = recorded.iter().map(|d| d.workflow.as_str()).collect();
        assert_eq!(names, ["Once", "Twice"], "{label}");
        let twice = &recorded[1];
        assert_eq!(&twice.definition, Twice::definition(), "{label}");
        assert_eq!(
            twice.fingerprint,
            Twice::definition().fingerprint(),
            "{label}"
        );

        // The execution names the fingerprint it started with; its definition is found by it.
        let record = first.describe(handle.id()).await.unwrap();
        let found = definitions
            .definition("Twice", &record.fingerprint)
            .await
            .unwrap()
            .expect("recorded");
        assert_eq!(&found.definition, Twice::definition(), "{label}");
        assert!(definitions
            .definition("Twice", "nope")
            .await
            .unwrap()
            .is_none());

        // Registered again later: one definition per workflow, the later time.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let second = runtime(&store, &clock);
        second.start_named::<Once>("o-1", 1).await.unwrap();
        let again = definitions.latest_definitions().await.unwrap();
        assert_eq!(again.len(), 2, "{label}");
        // The first runtime registered at 0 s; the execution waited 1 s, then 60 s passed.
        assert_eq!(
            again[1]
                .registered_at
                .duration_since(twice.registered_at)
                .unwrap(),
            Duration::from_secs(61),
            "{label}"
        );
    }
}
