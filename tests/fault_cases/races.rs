//! A stop racing the end: whichever is written first stands; the other is refused, in the
//! same transaction. A finished execution is never rewritten.

use std::sync::Arc;
use std::time::Duration;

use workflow::prelude::*;
use workflow::store::Store;
use workflow::{EventType, ExecutionStatus, RuntimeError};

use crate::support::stores::stores;

#[step]
async fn brief(millis: u64) -> u64 {
    if millis > 0 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    millis
}

workflow! {
    /// One short task.
    Brief: Standard<u64, u64> {
        start Work;
        Work: task brief -> end;
    }
}

fn runtime(store: Arc<dyn Store>) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .register::<Brief>()
        .build()
        .expect("builds")
}

/// The figure: 1,000 stop-versus-end races on each store, stopped from the runtime
/// running the execution and from another runtime on the same store (as the console and the
/// command-line tool do): 0 finished executions rewritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_racing_the_end_never_rewrites_a_finished_execution() {
    const RACES: usize = 1000;
    for (label, store, _keep) in stores().await {
        let running = runtime(Arc::clone(&store));
        let other = runtime(Arc::clone(&store));
        let mut stops = Vec::new();
        for race in 0..RACES {
            let millis = fastrand::u64(0..3);
            let handle = running.start::<Brief>(millis).await.expect(label);
            let stopper = if race % 2 == 0 {
                running.clone()
            } else {
                other.clone()
            };
            let id = handle.id().clone();
            stops.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_micros(fastrand::u64(0..4000))).await;
                let stopped = stopper.stop(&id, Some("Raced"), None).await;
                (id, stopped)
            }));
        }
        let (mut aborted, mut succeeded, mut rewritten) = (0, 0, 0);
        for stop in stops {
            let (id, stopped) = stop.await.expect("joins");
            let record = loop {
                let record = running.describe(&id).await.expect(label);
                if record.status != ExecutionStatus::Running {
                    break record;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            };
            let events = running.history(&id, 0, 1000).await.expect(label);
            let ends: Vec<EventType> = events
                .iter()
                .map(|event| event.kind)
                .filter(|kind| {
                    matches!(
                        kind,
                        EventType::ExecutionSucceeded
                            | EventType::ExecutionAborted
                            | EventType::ExecutionFailed
                    )
                })
                .collect();
            if ends.len() != 1 {
                rewritten += 1;
            }
            match (record.status, stopped) {
                (ExecutionStatus::Aborted, Ok(())) => {
                    aborted += 1;
                    assert_eq!(ends.last(), Some(&EventType::ExecutionAborted), "{label}");
                    assert_eq!(record.output, None, "{label}");
                }
                (
                    ExecutionStatus::Succeeded,
                    Err(RuntimeError::NotRunning {
                        status: ExecutionStatus::Succeeded,
                        ..
                    }),
                ) => {
                    succeeded += 1;
                    assert_eq!(ends.last(), Some(&EventType::ExecutionSucceeded), "{label}");
                    assert!(record.output.is_some(), "{label}");
                }
                (status, stopped) => {
                    panic!("{label}: ended {status:?}, the stop said {stopped:?}: {ends:?}")
                }
            }
        }
        println!(
            "stop races ({label}): {RACES} races, {aborted} stopped, {succeeded} finished first, {rewritten} finished executions rewritten"
        );
        assert_eq!(rewritten, 0, "{label}");
        assert_eq!(aborted + succeeded, RACES, "{label}");
        assert!(
            aborted > 0 && succeeded > 0,
            "{label}: both sides won some races"
        );
    }
}
