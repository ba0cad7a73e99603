//! A real execution's history exported in the shape of Step Functions' `GetExecutionHistory`:
//! every event has AWS's common fields and the details object AWS writes for its type.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use workflow::prelude::*;
use workflow::VirtualClock;

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum FetchError {
    #[error("the source is busy")]
    Busy,
}

/// Fails its first call, then answers the number it was given.
#[step]
async fn fetch(value: u32, calls: Res<AtomicU32>) -> Result<u32, FetchError> {
    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(FetchError::Busy);
    }
    Ok(value)
}

#[step]
async fn square(value: u32) -> u32 {
    value * value
}

#[step]
async fn increment(value: u32) -> u32 {
    value + 1
}

workflow! {
    /// Touches every kind of state but Fail, with a retry on the way.
    Tour: Standard<u32, Vec<u32>> {
        start Fetch;
        Fetch: task fetch -> Pause, retry FetchError::Busy { max_attempts: 2, interval: 1s };
        Pause: wait 1s -> Both;
        Both: parallel {
            branch { start Square; Square: task square -> end; }
            branch { start Increment; Increment: task increment -> end; }
        } -> Each;
        Each: map |pair: &(u32, u32)| vec![pair.0, pair.1] {
            start Item;
            Item: task increment -> end;
        } -> Route;
        Route: choice {
            |items: &Vec<u32>| items.is_empty() => Relay,
            _ => Done,
        };
        Relay: pass -> Done;
        Done: succeed;
    }
}

/// The details object AWS writes for each event type, if any.
fn details_key(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "ExecutionStarted" => "executionStartedEventDetails",
        "ExecutionSucceeded" => "executionSucceededEventDetails",
        "TaskScheduled" => "taskScheduledEventDetails",
        "TaskStarted" => "taskStartedEventDetails",
        "TaskSucceeded" => "taskSucceededEventDetails",
        "TaskFailed" => "taskFailedEventDetails",
        "MapStateStarted" => "mapStateStartedEventDetails",
        "MapIterationStarted" => "mapIterationStartedEventDetails",
        "MapIterationSucceeded" => "mapIterationSucceededEventDetails",
        kind if kind.ends_with("StateEntered") => "stateEnteredEventDetails",
        kind if kind.ends_with("StateExited") => "stateExitedEventDetails",
        "ParallelStateStarted" | "ParallelStateSucceeded" | "MapStateSucceeded" => return None,
        other => panic!("an event type this workflow should not record: {other}"),
    })
}

/// The fields of an AWS details object, sorted.
fn fields(details: &Value) -> Vec<&str> {
    details
        .as_object()
        .expect("details are an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_execution_exports_with_the_keys_step_functions_uses_for_each_event_type() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .resource(AtomicU32::new(0))
        .register::<Tour>()
        .build()
        .expect("builds");
    let execution = runtime.execute::<Tour>(3).await.expect("runs");
    assert_eq!(execution.output(), Some(&vec![10, 5]));
    let history = execution.history();
    let aws = history.to_aws_json();
    let events = aws["events"].as_array().expect("events");
    assert_eq!(events.len(), history.len());

    let mut previous_timestamp = f64::MIN;
    for (event, ours) in events.iter().zip(history) {
        let kind = event["type"].as_str().expect("a type");
        assert_eq!(kind, ours.kind.name());
        assert_eq!(event["id"], ours.id);
        assert_eq!(event["previousEventId"], ours.previous_event_id);
        let timestamp = event["timestamp"].as_f64().expect("epoch seconds");
        assert!(timestamp >= previous_timestamp, "{event}");
        previous_timestamp = timestamp;

        let keys: Vec<&str> = event
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .filter(|key| !["id", "previousEventId", "timestamp", "type"].contains(key))
            .collect();
        let Some(expected) = details_key(kind) else {
            assert!(keys.is_empty(), "{kind} has no details in AWS: {event}");
            continue;
        };
        assert_eq!(keys, [expected], "{event}");
        let details = &event[expected];
        let expected_fields: &[&str] = match expected {
            "executionStartedEventDetails" => &["input", "inputDetails"],
            "executionSucceededEventDetails" => &["output", "outputDetails"],
            "stateEnteredEventDetails" => &["input", "inputDetails", "name"],
            "stateExitedEventDetails" => &["name", "output", "outputDetails"],
            "taskScheduledEventDetails" => &["parameters", "resource", "resourceType"],
            "taskStartedEventDetails" => &["resource", "resourceType"],
            "taskSucceededEventDetails" => &["output", "outputDetails", "resource", "resourceType"],
            "taskFailedEventDetails" => &["cause", "error", "resource", "resourceType"],
            "mapStateStartedEventDetails" => &["length"],
            _ => &["index", "name"],
        };
        assert_eq!(fields(details), expected_fields, "{event}");
        // Payloads are JSON text, as in AWS's API.
        for payload in ["input", "output", "parameters"] {
            if let Some(text) = details.get(payload) {
                let text = text.as_str().expect("a payload is text");
                serde_json::from_str::<Value>(text).expect("the text is JSON");
            }
        }
    }

    let of = |kind: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|event| event["type"] == kind)
            .collect()
    };
    assert_eq!(
        of("TaskFailed")[0]["taskFailedEventDetails"]["error"],
        "FetchError.Busy"
    );
    assert_eq!(
        of("TaskScheduled")[1]["taskScheduledEventDetails"],
        serde_json::json!({ "resource": "Fetch", "resourceType": "rust", "parameters": "3" })
    );
    assert_eq!(
        of("MapStateStarted")[0]["mapStateStartedEventDetails"]["length"],
        2
    );
    let mut indices: Vec<i64> = of("MapIterationStarted")
        .iter()
        .map(|event| {
            assert_eq!(event["mapIterationStartedEventDetails"]["name"], "Each");
            event["mapIterationStartedEventDetails"]["index"]
                .as_i64()
                .expect("an index")
        })
        .collect();
    indices.sort_unstable();
    assert_eq!(indices, [0, 1]);
    assert_eq!(
        of("ExecutionSucceeded")[0]["executionSucceededEventDetails"]["output"],
        "[10,5]"
    );
}
