//! Retried Parallel and Map states: AWS writes `ParallelStateFailed` / `MapStateFailed` once,
//! when the state finally fails; between attempts only the next `*StateStarted`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{EventType, VirtualClock};

use crate::lane;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, thiserror::Error, StepError)]
enum Flaky {
    #[error("always fails")]
    Always,
}

#[step]
async fn always_fails(_input: u32) -> Result<u32, Flaky> {
    Err(Flaky::Always)
}

workflow! {
    /// A Parallel state retried twice, then failing the execution.
    RetriedParallel: Standard<u32, (u32, u32)> {
        start Both;
        Both: parallel {
            branch { start Fails; Fails: task always_fails -> end; }
            branch { start Echo; Echo: pass -> end; }
        } -> end, retry States::ALL { max_attempts: 2, interval: 1s, backoff: 2.0 };
    }
}

workflow! {
    /// A Map state retried twice, then failing the execution.
    RetriedMap: Standard<Vec<u32>, Vec<u32>> {
        start Each;
        Each: map |items: &Vec<u32>| items.clone() {
            start Item;
            Item: task always_fails -> end;
        } -> end, retry States::ALL { max_attempts: 2, interval: 1s, backoff: 2.0 };
    }
}

/// AWS, a Parallel state retried twice (`test_parallel_state_retry`):
/// `ParallelStateEntered, (ParallelStateStarted, FailStateEntered)×3, ParallelStateFailed,
/// ExecutionFailed`. Each retry's start carries the error and the delay before it ran.
#[tokio::test(start_paused = true)]
async fn a_retried_parallel_state_fails_once_at_the_end() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<RetriedParallel>()
        .build()
        .expect("builds");
    let execution = runtime.execute::<RetriedParallel>(1).await.expect("runs");
    use EventType::*;
    assert_eq!(
        lane(execution.history(), None),
        [
            ExecutionStarted,
            ParallelStateEntered,
            ParallelStateStarted,
            ParallelStateStarted,
            ParallelStateStarted,
            ParallelStateFailed,
            ExecutionFailed,
        ]
    );
    let starts: Vec<_> = execution
        .history()
        .events()
        .iter()
        .filter(|event| event.kind == ParallelStateStarted)
        .map(|event| (event.attempt, event.error.as_deref(), event.retry_in))
        .collect();
    assert_eq!(
        starts,
        [
            (Some(1), None, None),
            (Some(2), Some("Flaky.Always"), Some(Duration::from_secs(1))),
            (Some(3), Some("Flaky.Always"), Some(Duration::from_secs(2))),
        ]
    );
    // The delays were waited out: 1 s, then 2 s.
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(3));
    assert_eq!(
        execution.failure().map(|failure| failure.error()),
        Some("Flaky.Always")
    );
}

/// AWS, a Map state retried (`test_map_state_retry_multiple_retriers`):
/// `MapStateEntered, (MapStateStarted, MapIterationStarted, FailStateEntered,
/// MapIterationFailed)×n, MapStateFailed, ExecutionFailed`.
#[tokio::test(start_paused = true)]
async fn a_retried_map_state_fails_once_at_the_end() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<RetriedMap>()
        .build()
        .expect("builds");
    let execution = runtime.execute::<RetriedMap>(vec![1]).await.expect("runs");
    use EventType::*;
    assert_eq!(
        lane(execution.history(), None),
        [
            ExecutionStarted,
            MapStateEntered,
            MapStateStarted,
            MapStateStarted,
            MapStateStarted,
            MapStateFailed,
            ExecutionFailed,
        ]
    );
}
