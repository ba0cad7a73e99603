//! A Task state records the same history whichever way the engine runs it: an Express task
//! with nothing but its step to run takes a direct path, one with a timeout the full path of
//! timers and layers. Two steps alike but for a timeout (under one step name) run every outcome
//! side by side, and their histories must match event for event; run by `call`, which keeps
//! no history, they must end alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::EventType;

/// What the step does with its attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Outcome {
    Succeed,
    Refuse,
    Panic,
    /// Returns more than the runtime's payload limit.
    Oversize,
}

#[derive(Debug, thiserror::Error, StepError)]
enum WorkError {
    #[error("the work was refused")]
    Refused,
}

fn perform(outcome: Outcome) -> Result<String, WorkError> {
    match outcome {
        Outcome::Succeed => Ok("done".into()),
        Outcome::Refuse => Err(WorkError::Refused),
        Outcome::Panic => panic!("the work broke"),
        Outcome::Oversize => Ok("x".repeat(PAYLOAD_LIMIT * 2)),
    }
}

const PAYLOAD_LIMIT: usize = 1_000;

#[step(name = "work")]
async fn work_direct(outcome: Outcome) -> Result<String, WorkError> {
    perform(outcome)
}

#[step(name = "work", timeout = "1m")]
async fn work_timed(outcome: Outcome) -> Result<String, WorkError> {
    perform(outcome)
}

workflow! {
    Direct: Express<Outcome, String> {
        start Work;
        Work: task work_direct -> Again;
        Again: pass |_output: String| -> Outcome { Outcome::Succeed } -> Last;
        Last: task work_direct -> end;
    }
}

workflow! {
    Timed: Express<Outcome, String> {
        start Work;
        Work: task work_timed -> Again;
        Again: pass |_output: String| -> Outcome { Outcome::Succeed } -> Last;
        Last: task work_timed -> end;
    }
}

/// An event without its id and time: what the two paths must agree on.
type Seen = (
    EventType,
    Option<String>,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
    Option<String>,
    Option<String>,
    Option<u32>,
);

fn seen<O>(execution: &workflow::Execution<O>) -> (Vec<Seen>, Option<(String, String)>) {
    let events = execution
        .history()
        .events()
        .iter()
        .map(|event| {
            (
                event.kind,
                event.state.as_deref().map(str::to_owned),
                event.input.clone(),
                event.output.clone(),
                event.error.clone(),
                event.cause.clone(),
                event.attempt,
            )
        })
        .collect();
    let failure = execution
        .failure()
        .map(|failure| (failure.error().to_owned(), failure.cause().to_owned()));
    (events, failure)
}

fn runtime() -> Runtime {
    Runtime::builder()
        .register::<Direct>()
        .register::<Timed>()
        .payload_limit(PAYLOAD_LIMIT)
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_outcome_of_a_task_is_recorded_alike_on_the_direct_and_the_timed_path() {
    let runtime = runtime();
    for outcome in [
        Outcome::Succeed,
        Outcome::Refuse,
        Outcome::Panic,
        Outcome::Oversize,
    ] {
        let direct = runtime.execute::<Direct>(outcome).await.unwrap();
        let timed = runtime.execute::<Timed>(outcome).await.unwrap();
        let (direct, timed) = (seen(&direct), seen(&timed));
        assert_eq!(direct, timed, "{outcome:?}");
        // The histories compared are the whole story of the attempt, not empty ones.
        let kinds: Vec<EventType> = direct.0.iter().map(|event| event.0).collect();
        let expected: &[EventType] = match outcome {
            Outcome::Succeed => &[
                EventType::ExecutionStarted,
                EventType::TaskStateEntered,
                EventType::TaskScheduled,
                EventType::TaskStarted,
                EventType::TaskSucceeded,
                EventType::TaskStateExited,
                EventType::PassStateEntered,
                EventType::PassStateExited,
                EventType::TaskStateEntered,
                EventType::TaskScheduled,
                EventType::TaskStarted,
                EventType::TaskSucceeded,
                EventType::TaskStateExited,
                EventType::ExecutionSucceeded,
            ],
            _ => &[
                EventType::ExecutionStarted,
                EventType::TaskStateEntered,
                EventType::TaskScheduled,
                EventType::TaskStarted,
                EventType::TaskFailed,
                EventType::ExecutionFailed,
            ],
        };
        assert_eq!(kinds, expected, "{outcome:?}");
    }
}

#[tokio::test]
async fn a_history_at_its_limit_ends_alike_on_both_paths() {
    for limit in 2..=8 {
        let runtime = Runtime::builder()
            .register::<Direct>()
            .register::<Timed>()
            .history_limit(limit)
            .build()
            .unwrap();
        let direct = runtime.execute::<Direct>(Outcome::Succeed).await.unwrap();
        let timed = runtime.execute::<Timed>(Outcome::Succeed).await.unwrap();
        assert_eq!(seen(&direct), seen(&timed), "limit {limit}");
        assert_eq!(
            direct.failure().map(ExecutionFailure::error),
            Some("States.Runtime"),
            "limit {limit}"
        );
    }
}

#[tokio::test]
async fn every_outcome_of_a_task_ends_a_call_alike_on_the_direct_and_the_timed_path() {
    let runtime = runtime();
    let ended = |called: Result<String, ExecutionFailure>| {
        called.map_err(|failure| {
            (
                failure.error().to_owned(),
                failure.cause().to_owned(),
                failure.state().map(str::to_owned),
            )
        })
    };
    for outcome in [
        Outcome::Succeed,
        Outcome::Refuse,
        Outcome::Panic,
        Outcome::Oversize,
    ] {
        let direct = ended(runtime.call::<Direct>(outcome).await.unwrap());
        let timed = ended(runtime.call::<Timed>(outcome).await.unwrap());
        assert_eq!(direct, timed, "{outcome:?}");
        let expected_error = match outcome {
            Outcome::Succeed => None,
            Outcome::Refuse => Some("WorkError.Refused"),
            Outcome::Panic => Some("States.TaskFailed"),
            Outcome::Oversize => Some("States.DataLimitExceeded"),
        };
        assert_eq!(
            direct.as_ref().err().map(|(error, _, _)| error.as_str()),
            expected_error,
            "{outcome:?}"
        );
    }
}
