//! Parallel and Map states: concurrent branches and items, cancellation, concurrency limits,
//! tolerated failures, and their history.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{EventType, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Customer {
    id: u32,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Credit {
    score: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct History {
    orders: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum LookupError {
    #[error("the bureau is down")]
    BureauDown,
}

/// What the fakes observe.
#[derive(Default)]
struct Probe {
    slow_finished: AtomicBool,
    fail_history: AtomicBool,
    running: AtomicUsize,
    most_running: AtomicUsize,
    flaky_calls: AtomicUsize,
}

/// Takes 10 s, then reports the score; notes whether it ever finished.
#[step]
async fn credit_score(customer: Customer, probe: Res<Probe>) -> Credit {
    tokio::time::sleep(Duration::from_secs(10)).await;
    probe.slow_finished.store(true, Ordering::SeqCst);
    Credit {
        score: 700 + customer.id,
    }
}

/// Takes 1 s; fails if the probe says so.
#[step]
async fn order_history(customer: Customer, probe: Res<Probe>) -> Result<History, LookupError> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    if probe.fail_history.load(Ordering::SeqCst) {
        return Err(LookupError::BureauDown);
    }
    Ok(History {
        orders: customer.id * 2,
    })
}

/// Combines both lookups.
#[step]
async fn decide(found: (Credit, History)) -> String {
    format!("score {} with {} orders", found.0.score, found.1.orders)
}

/// Says no when a lookup failed.
#[step]
async fn refuse(failed: Caught<Customer>) -> String {
    format!("refused {}: {}", failed.input.name, failed.error)
}

workflow! {
    /// Looks a customer up in two places at once.
    Profile: Standard<Customer, String> {
        start Lookups;
        Lookups: parallel {
            branch {
                start Credit;
                Credit: task credit_score -> end;
            }
            branch {
                start Orders;
                Orders: task order_history -> end;
            }
        } -> Decide, catch LookupError::BureauDown -> Refuse;
        Decide: task decide -> end;
        Refuse: task refuse -> end;
    }
}

fn runtime(probe: Arc<Probe>) -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .resource_arc(probe)
        .register::<Profile>()
        .register::<Batch>()
        .register::<TolerantBatch>()
        .register::<Grouped>()
        .register::<Refusal>()
        .register::<Rejects>()
        .build()
        .expect("builds")
}

fn customer() -> Customer {
    Customer {
        id: 7,
        name: "Ada".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn parallel_branches_run_together_and_join_into_a_tuple() {
    let probe = Arc::new(Probe::default());
    let execution = runtime(Arc::clone(&probe))
        .execute::<Profile>(customer())
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(String::as_str),
        Some("score 707 with 14 orders")
    );
    // Both lookups overlapped: 10 s in all, not 11 s.
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(10));

    let events = execution.history().events();
    let labelled = |kind: EventType, branch: Option<&str>| {
        events
            .iter()
            .any(|event| event.kind == kind && event.branch.as_deref() == branch)
    };
    assert!(labelled(EventType::TaskSucceeded, Some("Lookups/0")));
    assert!(labelled(EventType::TaskSucceeded, Some("Lookups/1")));
    use EventType::*;
    let outer: Vec<EventType> = events
        .iter()
        .filter(|event| event.branch.is_none())
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        outer,
        [
            ExecutionStarted,
            ParallelStateEntered,
            ParallelStateStarted,
            ParallelStateExited,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskSucceeded,
            TaskStateExited,
            ExecutionSucceeded,
        ]
    );
    let succeeded = events
        .iter()
        .find(|event| event.kind == ParallelStateExited)
        .expect("recorded");
    assert_eq!(
        succeeded.output,
        Some(serde_json::json!([{"score": 707}, {"orders": 14}]))
    );
    // Ids stay contiguous and each branch's events link back within the branch.
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.id, index as u64 + 1);
        assert!(event.previous_event_id < event.id);
    }
    let branch1: Vec<&workflow::Event> = events
        .iter()
        .filter(|e| e.branch.as_deref() == Some("Lookups/1"))
        .collect();
    for pair in branch1.windows(2) {
        assert_eq!(pair[1].previous_event_id, pair[0].id);
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_branch_cancels_the_others_and_the_state_catches_it() {
    let probe = Arc::new(Probe::default());
    probe.fail_history.store(true, Ordering::SeqCst);
    let execution = runtime(Arc::clone(&probe))
        .execute::<Profile>(customer())
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(String::as_str),
        Some("refused Ada: LookupError.BureauDown")
    );
    // The credit lookup was dropped after 1 s; it never finished, not even later.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(!probe.slow_finished.load(Ordering::SeqCst));
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(1));

    use EventType::*;
    let events = execution.history().events();
    let credit: Vec<EventType> = events
        .iter()
        .filter(|event| event.branch.as_deref() == Some("Lookups/0"))
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        credit,
        [
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskStateAborted
        ],
        "started, never finished: aborted"
    );
    let failed = events
        .iter()
        .find(|event| event.kind == ParallelStateFailed)
        .expect("recorded");
    assert_eq!(failed.error.as_deref(), Some("LookupError.BureauDown"));
    assert!(events
        .iter()
        .any(|event| event.kind == TaskSucceeded && event.state.as_deref() == Some("Refuse")));
}

/// Fails the first time it runs, then reports the orders.
#[step]
async fn flaky_history(customer: Customer, probe: Res<Probe>) -> Result<History, LookupError> {
    if probe.flaky_calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(LookupError::BureauDown);
    }
    Ok(History {
        orders: customer.id,
    })
}

/// Reads the one branch's output.
#[step]
async fn summarise(grouped: (History,)) -> String {
    format!("{} orders", grouped.0.orders)
}

workflow! {
    /// A Parallel state with one branch groups its states under one retrier.
    Grouped: Standard<Customer, String> {
        start Group;
        Group: parallel {
            branch {
                start Fetch;
                Fetch: task flaky_history -> Check;
                Check: pass -> end;
            }
        } -> Summarise, retry LookupError::BureauDown { interval: 2s };
        Summarise: task summarise -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn a_parallel_state_with_one_branch_outputs_a_one_tuple_and_retries_the_branch() {
    let probe = Arc::new(Probe::default());
    let execution = runtime(Arc::clone(&probe))
        .execute::<Grouped>(customer())
        .await
        .expect("runs");
    assert_eq!(execution.output().map(String::as_str), Some("7 orders"));
    assert_eq!(probe.flaky_calls.load(Ordering::SeqCst), 2);
    use EventType::*;
    let events = execution.history().events();
    let outer: Vec<EventType> = events
        .iter()
        .filter(|event| event.branch.is_none())
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        outer,
        [
            ExecutionStarted,
            ParallelStateEntered,
            // A retried attempt's failure is only in the next start, as on AWS.
            ParallelStateStarted,
            ParallelStateStarted,
            ParallelStateExited,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskSucceeded,
            TaskStateExited,
            ExecutionSucceeded,
        ]
    );
    let branch: Vec<EventType> = events
        .iter()
        .filter(|event| event.branch.as_deref() == Some("Group/0"))
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        branch,
        [
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskFailed,
            TaskStateAborted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskSucceeded,
            TaskStateExited,
            PassStateEntered,
            PassStateExited,
        ]
    );
    let succeeded = events
        .iter()
        .find(|event| event.kind == ParallelStateExited)
        .expect("recorded");
    // A one-element array, as Step Functions outputs it.
    assert_eq!(succeeded.output, Some(serde_json::json!([{"orders": 7}])));
}

workflow! {
    /// A branch that is only a Fail state: it outputs `Never`, so the Parallel state's output
    /// `(Never,)` goes to `end` unchecked by value (there is none) but checked by type.
    Refusal: Standard<Customer, String> {
        start Check;
        Check: parallel {
            branch {
                start Refuse;
                Refuse: fail "FailureType", cause "Cause description";
            }
        } -> end, catch "FailureType" -> Refused;
        Refused: pass |caught: Caught<Customer>| -> String {
            format!("{}: {} ({})", caught.input.name, caught.error, caught.cause)
        } -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn a_branch_that_only_fails_is_caught_by_its_parallel_state() {
    let execution = runtime(Arc::new(Probe::default()))
        .execute::<Refusal>(customer())
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(String::as_str),
        Some("Ada: FailureType (Cause description)")
    );
    use EventType::*;
    let events = execution.history().events();
    // As Step Functions records it, the branch's Fail state in its lane.
    let kinds: Vec<(EventType, Option<&str>)> = events
        .iter()
        .map(|event| (event.kind, event.branch.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ExecutionStarted, None),
            (ParallelStateEntered, None),
            (ParallelStateStarted, None),
            (FailStateEntered, Some("Check/0")),
            (ParallelStateFailed, None),
            (ParallelStateExited, None),
            (PassStateEntered, None),
            (PassStateExited, None),
            (ExecutionSucceeded, None),
        ]
    );
    let failed = events
        .iter()
        .find(|event| event.kind == ParallelStateFailed)
        .expect("recorded");
    assert_eq!(failed.error.as_deref(), Some("FailureType"));
    assert_eq!(failed.cause.as_deref(), Some("Cause description"));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Rows {
    rows: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum RowError {
    #[error("negative values are not allowed")]
    Negative,
}

/// Doubles a row after a second, counting how many run at once.
#[step]
async fn double(row: i64, probe: Res<Probe>) -> Result<i64, RowError> {
    let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
    probe.most_running.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    probe.running.fetch_sub(1, Ordering::SeqCst);
    if row < 0 {
        return Err(RowError::Negative);
    }
    Ok(row * 2)
}

workflow! {
    Batch: Express<Rows, Vec<i64>> {
        start Double;
        Double: map |batch: &Rows| batch.rows.clone() {
            start Row;
            Row: task double -> end;
        } -> end, max_concurrency 2;
    }
}

#[tokio::test(start_paused = true)]
async fn map_runs_items_at_most_two_at_a_time_and_keeps_their_order() {
    let probe = Arc::new(Probe::default());
    let rows = Rows {
        rows: (1..=7).collect(),
    };
    let execution = runtime(Arc::clone(&probe))
        .execute::<Batch>(rows)
        .await
        .expect("runs");
    assert_eq!(execution.output(), Some(&vec![2, 4, 6, 8, 10, 12, 14]));
    assert_eq!(probe.most_running.load(Ordering::SeqCst), 2);
    // Seven one-second items, two at a time: four rounds.
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(4));
    let events = execution.history().events();
    let started = events
        .iter()
        .filter(|event| event.kind == EventType::MapIterationStarted)
        .count();
    let succeeded = events
        .iter()
        .filter(|event| event.kind == EventType::MapIterationSucceeded)
        .count();
    assert_eq!((started, succeeded), (7, 7));
    let third = events
        .iter()
        .find(|event| {
            event.kind == EventType::MapIterationStarted
                && event.branch.as_deref() == Some("Double[2]")
        })
        .expect("item 2 has its lane");
    assert_eq!(third.input, Some(serde_json::json!(3)));
    use EventType::*;
    let outer: Vec<EventType> = events
        .iter()
        .filter(|event| event.branch.is_none())
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        outer,
        [
            ExecutionStarted,
            MapStateEntered,
            MapStateStarted,
            MapStateSucceeded,
            MapStateExited,
            ExecutionSucceeded
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn map_without_tolerance_fails_on_the_first_failed_item() {
    let probe = Arc::new(Probe::default());
    let rows = Rows {
        rows: vec![1, -2, 3],
    };
    let execution = runtime(probe).execute::<Batch>(rows).await.expect("runs");
    let failure = execution.failure().expect("fails");
    assert_eq!(failure.error(), "RowError.Negative");
    assert!(execution
        .history()
        .kinds()
        .contains(&EventType::MapStateFailed));
}

workflow! {
    TolerantBatch: Standard<Rows, Vec<Result<i64, Caught<i64>>>> {
        start Double;
        Double: map |batch: &Rows| batch.rows.clone() {
            start Row;
            Row: task double -> end;
        } -> end, tolerate 25%;
    }
}

#[tokio::test(start_paused = true)]
async fn map_tolerates_failures_up_to_a_percentage() {
    let probe = Arc::new(Probe::default());
    let runtime = runtime(Arc::clone(&probe));
    // One of four items fails: 25 %, tolerated. The output keeps every item in order.
    let execution = runtime
        .execute::<TolerantBatch>(Rows {
            rows: vec![1, -2, 3, 4],
        })
        .await
        .expect("runs");
    let output = execution.output().expect("succeeds");
    assert_eq!(output.len(), 4);
    assert_eq!(output[0], Ok(2));
    let failed = output[1].as_ref().expect_err("item 1 failed");
    assert_eq!(
        (failed.input, failed.error.as_str()),
        (-2, "RowError.Negative")
    );
    assert_eq!(output[3], Ok(8));
    let iteration_failures = execution
        .history()
        .events()
        .iter()
        .filter(|event| event.kind == EventType::MapIterationFailed)
        .count();
    assert_eq!(iteration_failures, 1);

    // Two of four: 50 %, more than tolerated.
    let execution = runtime
        .execute::<TolerantBatch>(Rows {
            rows: vec![1, -2, -3, 4],
        })
        .await
        .expect("runs");
    let failure = execution.failure().expect("fails");
    assert_eq!(failure.error(), "States.ExceedToleratedFailureThreshold");
    assert_eq!(failure.state(), Some("Double"));
    assert_eq!(
        failure.cause(),
        "2 of 4 items failed, more than tolerated (25%)"
    );
}

workflow! {
    /// An iteration that is only a Fail state: the selector's return type names the items.
    Rejects: Standard<Rows, usize> {
        start Each;
        Each: map |batch: &Rows| -> Vec<i64> { batch.rows.clone() } {
            start Reject;
            Reject: fail "Row.Rejected", cause "no row is accepted";
        } -> Count;
        Count: pass |done: Vec<Never>| -> usize { done.len() } -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn a_map_iteration_that_only_fails_fails_the_map_unless_there_are_no_items() {
    let runtime = runtime(Arc::new(Probe::default()));
    let execution = runtime
        .execute::<Rejects>(Rows { rows: vec![1] })
        .await
        .expect("runs");
    let failure = execution.failure().expect("fails");
    assert_eq!(
        (failure.error(), failure.cause()),
        ("Row.Rejected", "no row is accepted")
    );
    use EventType::*;
    let kinds: Vec<EventType> = execution
        .history()
        .events()
        .iter()
        .map(|event| event.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ExecutionStarted,
            MapStateEntered,
            MapStateStarted,
            MapIterationStarted,
            FailStateEntered,
            MapIterationFailed,
            MapStateFailed,
            ExecutionFailed,
        ]
    );

    // No items: nothing fails, and the output is an empty `Vec<Never>`.
    let execution = runtime
        .execute::<Rejects>(Rows { rows: Vec::new() })
        .await
        .expect("runs");
    assert_eq!(execution.output(), Some(&0));
}

#[test]
fn the_definition_nests_branches_and_iterations() {
    use workflow::definition::StateKind;
    let definition = <Profile as Workflow>::definition();
    let names: Vec<&str> = definition
        .states
        .iter()
        .map(|state| state.name.as_str())
        .collect();
    assert_eq!(names, ["Lookups", "Credit", "Orders", "Decide", "Refuse"]);
    let top: Vec<&str> = definition
        .top_level()
        .iter()
        .map(|id| definition.states[id.0].name.as_str())
        .collect();
    assert_eq!(top, ["Lookups", "Decide", "Refuse"]);
    let StateKind::Parallel(parallel) = &definition.states[0].kind else {
        panic!("Lookups is a Parallel state");
    };
    let starts: Vec<&str> = parallel
        .branches
        .iter()
        .map(|branch| definition.states[branch.start_at.0].name.as_str())
        .collect();
    assert_eq!(starts, ["Credit", "Orders"]);
    assert_eq!(parallel.catch[0].errors, ["LookupError.BureauDown"]);

    let batch = <TolerantBatch as Workflow>::definition();
    let StateKind::Map(map) = &batch.states[0].kind else {
        panic!("Double is a Map state");
    };
    assert_eq!(map.items, "|batch: &Rows| batch.rows.clone()");
    assert_eq!(map.tolerated_failure_percentage, Some(25.0));
    assert_eq!(batch.states[map.iterator.start_at.0].name, "Row");
}
