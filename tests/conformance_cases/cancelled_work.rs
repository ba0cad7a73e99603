//! Cancelled work is closed in the history: when a branch or iteration fails, Step Functions
//! writes `TaskStateAborted` for the tasks still open (the failed one's too) and
//! `MapIterationAborted` for the iterations still running; iterations that fail at the same
//! instant each record their own failure first.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{EventType, VirtualClock};

use crate::lane;

/// Sleeps `seconds`, then answers.
#[step]
async fn sleep_for(seconds: u64) -> u64 {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    seconds
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, thiserror::Error, StepError)]
enum Lookup {
    #[error("the service is down")]
    Down,
}

/// Fails after a second.
#[step]
async fn fail_after_a_second(_seconds: u64) -> Result<u64, Lookup> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err(Lookup::Down)
}

#[step]
async fn recover(failed: Caught<u64>) -> (u64, u64) {
    (failed.input, 0)
}

workflow! {
    /// A Map of tasks with a 5-second timeout, over items that all take longer.
    TimedOutMap: Standard<Vec<u64>, Vec<u64>> {
        start Each;
        Each: map |items: &Vec<u64>| items.clone() {
            start Invoke;
            Invoke: task sleep_for -> end, timeout 5s;
        } -> end;
    }
}

workflow! {
    /// Two branches: one slow, one failing after a second; the Parallel state catches it.
    CancelledBranch: Standard<u64, (u64, u64)> {
        start Both;
        Both: parallel {
            branch { start Slow; Slow: task sleep_for -> end; }
            branch { start Fails; Fails: task fail_after_a_second -> end; }
        } -> end, catch States::ALL -> Recover;
        Recover: task recover -> end;
    }
}

/// AWS, a Map of 4 Lambda tasks with `TimeoutSeconds: 5` (`test_service_lambda_map_timeout`):
/// after the four `TaskStarted`, `TaskTimedOut ×4, MapIterationFailed, TaskStateAborted,
/// (MapIterationAborted, TaskStateAborted) ×3, MapStateFailed, ExecutionFailed` with
/// `States.Timeout`.
#[tokio::test(start_paused = true)]
async fn map_iterations_timing_out_together_each_record_it_and_the_rest_are_aborted() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<TimedOutMap>()
        .build()
        .expect("builds");
    let execution = runtime
        .execute::<TimedOutMap>(vec![60, 60, 60, 60])
        .await
        .expect("runs");
    let history = execution.history();
    use EventType::*;
    let kinds = history.kinds();
    assert_eq!(
        kinds[kinds.len() - 14..],
        [
            TaskTimedOut,
            TaskTimedOut,
            TaskTimedOut,
            TaskTimedOut,
            MapIterationFailed,
            TaskStateAborted,
            MapIterationAborted,
            TaskStateAborted,
            MapIterationAborted,
            TaskStateAborted,
            MapIterationAborted,
            TaskStateAborted,
            MapStateFailed,
            ExecutionFailed,
        ],
        "{}",
        history.table()
    );
    assert_eq!(
        lane(history, None),
        [
            ExecutionStarted,
            MapStateEntered,
            MapStateStarted,
            MapStateFailed,
            ExecutionFailed
        ]
    );
    let started = [
        MapIterationStarted,
        TaskStateEntered,
        TaskScheduled,
        TaskStarted,
    ];
    let mut failed = 0;
    for index in 0..4 {
        let events = lane(history, Some(&format!("Each[{index}]")));
        assert_eq!(events[..4], started, "iteration {index}");
        match events[4..] {
            [TaskTimedOut, MapIterationFailed, TaskStateAborted] => failed += 1,
            [TaskTimedOut, MapIterationAborted, TaskStateAborted] => {}
            _ => panic!("iteration {index}: {events:?}"),
        }
    }
    assert_eq!(failed, 1, "one iteration failed the state");
    assert_eq!(
        execution.failure().map(|failure| failure.error()),
        Some("States.Timeout")
    );
}

/// AWS, a Parallel state whose branch task fails (`test_sqs_failure_in_wait_for_task_tok`,
/// `test_parallel_catch_error`): `TaskFailed, TaskStateAborted, ParallelStateFailed,
/// ParallelStateExited`; a sibling still running gets its `TaskStateAborted` as well.
#[tokio::test(start_paused = true)]
async fn a_failed_branch_and_its_running_sibling_are_closed_before_the_state_fails() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<CancelledBranch>()
        .build()
        .expect("builds");
    let execution = runtime.execute::<CancelledBranch>(30).await.expect("runs");
    let history = execution.history();
    assert_eq!(execution.output(), Some(&(30, 0)));
    use EventType::*;
    assert_eq!(
        lane(history, Some("Both/0")),
        [
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskStateAborted
        ]
    );
    assert_eq!(
        lane(history, Some("Both/1")),
        [
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskFailed,
            TaskStateAborted
        ]
    );
    let kinds = history.kinds();
    let failed = kinds
        .iter()
        .position(|kind| *kind == TaskFailed)
        .expect("a task failed");
    assert_eq!(
        kinds[failed..failed + 5],
        [
            TaskFailed,
            TaskStateAborted,
            TaskStateAborted,
            ParallelStateFailed,
            ParallelStateExited
        ],
        "{}",
        history.table()
    );
}
