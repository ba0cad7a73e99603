//! The Step Functions export of histories built by hand, event kind by event kind.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::iteration_index;
use crate::history::{Event, EventType, History};

/// Events one after the other, 1.5 s apart from 1970-01-01T00:00:01.5Z.
struct Builder {
    events: Vec<Event>,
}

impl Builder {
    fn new() -> Self {
        Builder { events: Vec::new() }
    }

    fn push(&mut self, kind: EventType, fill: impl FnOnce(&mut Event)) -> &mut Self {
        let id = self.events.len() as u64 + 1;
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(id * 1500);
        let mut event = Event::new(id, id - 1, at, kind);
        fill(&mut event);
        self.events.push(event);
        self
    }

    fn state(&mut self, kind: EventType, state: &str, branch: Option<&str>) -> &mut Self {
        self.push(kind, |event| {
            event.state = Some(state.to_owned().into());
            event.branch = branch.map(str::to_owned);
        })
    }

    /// A MapStateStarted of `state` in `branch` that recorded `length` items.
    fn map_started(&mut self, state: &str, branch: Option<&str>, length: usize) -> &mut Self {
        self.state(EventType::MapStateStarted, state, branch);
        if let Some(started) = self.events.last_mut() {
            started.length = Some(length);
        }
        self
    }

    fn export(&self) -> Vec<Value> {
        let json = History::from_events(self.events.clone()).to_aws_json();
        let object = json.as_object().expect("an object");
        assert_eq!(object.len(), 1, "only `events`: {json}");
        json["events"].as_array().expect("events").clone()
    }
}

#[test]
fn an_empty_history_has_no_events() {
    assert_eq!(History::default().to_aws_json(), json!({ "events": [] }));
}

#[test]
fn a_task_that_fails_then_succeeds_reads_as_in_step_functions() {
    let mut history = Builder::new();
    history
        .push(EventType::ExecutionStarted, |event| {
            event.input = Some(json!({ "id": 7 }))
        })
        .push(EventType::TaskStateEntered, |event| {
            event.state = Some("Charge".into());
            event.input = Some(json!({ "id": 7 }));
        })
        .push(EventType::TaskScheduled, |event| {
            event.state = Some("Charge".into());
            event.attempt = Some(1);
        })
        .push(EventType::TaskStarted, |event| {
            event.state = Some("Charge".into());
            event.attempt = Some(1);
        })
        .push(EventType::TaskFailed, |event| {
            event.state = Some("Charge".into());
            event.error = Some("PaymentError.Declined".into());
            event.cause = Some("card declined".into());
            event.retry_in = Some(Duration::from_secs(2));
        })
        .push(EventType::TaskScheduled, |event| {
            event.state = Some("Charge".into());
            event.attempt = Some(2);
        })
        .push(EventType::TaskSucceeded, |event| {
            event.state = Some("Charge".into());
            event.output = Some(json!("tx-1"));
        })
        .push(EventType::TaskStateExited, |event| {
            event.state = Some("Charge".into());
            event.output = Some(json!("tx-1"));
        })
        .push(EventType::ExecutionSucceeded, |event| {
            event.output = Some(json!("tx-1"))
        });
    let events = history.export();
    assert_eq!(
        events[0],
        json!({
            "id": 1,
            "previousEventId": 0,
            "timestamp": 1.5,
            "type": "ExecutionStarted",
            "executionStartedEventDetails": {
                "input": "{\"id\":7}",
                "inputDetails": { "truncated": false }
            }
        })
    );
    assert_eq!(
        events[1]["stateEnteredEventDetails"],
        json!({ "name": "Charge", "input": "{\"id\":7}", "inputDetails": { "truncated": false } })
    );
    let scheduled = json!({
        "resource": "Charge",
        "resourceType": "rust",
        "parameters": "{\"id\":7}"
    });
    assert_eq!(events[2]["taskScheduledEventDetails"], scheduled);
    assert_eq!(
        events[3],
        json!({
            "id": 4,
            "previousEventId": 3,
            "timestamp": 6.0,
            "type": "TaskStarted",
            "taskStartedEventDetails": { "resource": "Charge", "resourceType": "rust" }
        })
    );
    // The attempt and the retry delay have no place in Step Functions' events.
    assert_eq!(
        events[4],
        json!({
            "id": 5,
            "previousEventId": 4,
            "timestamp": 7.5,
            "type": "TaskFailed",
            "taskFailedEventDetails": {
                "error": "PaymentError.Declined",
                "cause": "card declined",
                "resource": "Charge",
                "resourceType": "rust"
            }
        })
    );
    // The second attempt is given the same input.
    assert_eq!(events[5]["taskScheduledEventDetails"], scheduled);
    assert_eq!(
        events[6]["taskSucceededEventDetails"],
        json!({
            "resource": "Charge",
            "resourceType": "rust",
            "output": "\"tx-1\"",
            "outputDetails": { "truncated": false }
        })
    );
    assert_eq!(
        events[7]["stateExitedEventDetails"],
        json!({ "name": "Charge", "output": "\"tx-1\"", "outputDetails": { "truncated": false } })
    );
    assert_eq!(
        events[8]["executionSucceededEventDetails"],
        json!({ "output": "\"tx-1\"", "outputDetails": { "truncated": false } })
    );
}

#[test]
fn failures_carry_what_was_recorded_and_nothing_else() {
    let mut history = Builder::new();
    history
        .push(EventType::TaskTimedOut, |event| {
            event.state = Some("Ship".into());
            event.error = Some("States.Timeout".into());
            event.cause = Some("no heartbeat within 2s".into());
            event.heartbeat_timeout = true;
        })
        .push(EventType::ExecutionFailed, |event| {
            event.error = Some("States.Timeout".into());
        })
        .push(EventType::ExecutionAborted, |_| {})
        .push(EventType::ExecutionTimedOut, |event| {
            event.error = Some("States.Timeout".into());
            event.cause = Some("the execution did not finish within 1h".into());
        })
        .push(EventType::FailStateEntered, |event| {
            event.state = Some("Declined".into());
        });
    let events = history.export();
    assert_eq!(
        events[0]["taskTimedOutEventDetails"],
        json!({
            "error": "States.Timeout",
            "cause": "no heartbeat within 2s",
            "resource": "Ship",
            "resourceType": "rust"
        })
    );
    assert_eq!(
        events[1]["executionFailedEventDetails"],
        json!({ "error": "States.Timeout" })
    );
    assert_eq!(events[2]["executionAbortedEventDetails"], json!({}));
    assert_eq!(
        events[3]["executionTimedOutEventDetails"],
        json!({ "error": "States.Timeout", "cause": "the execution did not finish within 1h" })
    );
    // Without a recorded input there is neither `input` nor `inputDetails`.
    assert_eq!(
        events[4]["stateEnteredEventDetails"],
        json!({ "name": "Declined" })
    );
}

#[test]
fn map_iterations_have_their_index_and_a_map_start_its_length() {
    let mut history = Builder::new();
    history
        .state(EventType::MapStateEntered, "Transform", None)
        .map_started("Transform", None, 2)
        .state(
            EventType::MapIterationStarted,
            "Transform",
            Some("Transform[0]"),
        )
        .state(
            EventType::MapIterationStarted,
            "Transform",
            Some("Transform[1]"),
        )
        .state(EventType::PassStateEntered, "Row", Some("Transform[1]"))
        .state(
            EventType::MapIterationSucceeded,
            "Transform",
            Some("Transform[1]"),
        )
        .state(
            EventType::MapIterationFailed,
            "Transform",
            Some("Transform[0]"),
        )
        .state(
            EventType::MapIterationAborted,
            "Transform",
            Some("Transform[12]"),
        )
        .state(EventType::MapStateSucceeded, "Transform", None)
        .state(EventType::MapStateExited, "Transform", None);
    let events = history.export();
    assert_eq!(
        events[1],
        json!({
            "id": 2,
            "previousEventId": 1,
            "timestamp": 3.0,
            "type": "MapStateStarted",
            "mapStateStartedEventDetails": { "length": 2 }
        })
    );
    assert_eq!(
        events[2]["mapIterationStartedEventDetails"],
        json!({ "name": "Transform", "index": 0 })
    );
    assert_eq!(
        events[5]["mapIterationSucceededEventDetails"],
        json!({ "name": "Transform", "index": 1 })
    );
    assert_eq!(
        events[6]["mapIterationFailedEventDetails"],
        json!({ "name": "Transform", "index": 0 })
    );
    assert_eq!(
        events[7]["mapIterationAbortedEventDetails"],
        json!({ "name": "Transform", "index": 12 })
    );
    // As in Step Functions: no details at all.
    assert_eq!(
        events[8],
        json!({ "id": 9, "previousEventId": 8, "timestamp": 13.5, "type": "MapStateSucceeded" })
    );
}

#[test]
fn a_map_start_without_a_recorded_length_has_none_and_aborted_work_has_no_details() {
    let mut history = Builder::new();
    history
        .state(EventType::MapStateEntered, "Outer", None)
        // Recorded before starts recorded their length.
        .state(EventType::MapStateStarted, "Outer", None)
        .state(EventType::MapIterationStarted, "Outer", Some("Outer[0]"))
        .state(EventType::MapStateEntered, "Inner", Some("Outer[0]"))
        .map_started("Inner", Some("Outer[0]"), 3)
        .state(
            EventType::MapIterationStarted,
            "Inner",
            Some("Outer[0]/Inner[0]"),
        )
        .state(EventType::MapIterationAborted, "Outer", Some("Outer[0]"))
        .state(EventType::MapStateAborted, "Inner", Some("Outer[0]"))
        .state(
            EventType::TaskStateAborted,
            "Work",
            Some("Outer[0]/Inner[0]"),
        )
        .state(EventType::WaitStateAborted, "Pause", Some("Outer[1]"))
        .state(EventType::MapStateFailed, "Outer", None);
    let events = history.export();
    assert_eq!(events[1]["mapStateStartedEventDetails"], json!({}));
    assert_eq!(
        events[4]["mapStateStartedEventDetails"],
        json!({ "length": 3 })
    );
    assert_eq!(
        events[5]["mapIterationStartedEventDetails"],
        json!({ "name": "Inner", "index": 0 })
    );
    assert_eq!(
        events[6]["mapIterationAbortedEventDetails"],
        json!({ "name": "Outer", "index": 0 })
    );
    for position in [7, 8, 9, 10] {
        let event = events[position].as_object().expect("an object");
        assert_eq!(event.len(), 4, "no details: {event:?}");
    }
}

#[test]
fn each_redrive_is_counted() {
    let mut history = Builder::new();
    history
        .push(EventType::ExecutionStarted, |_| {})
        .push(EventType::ExecutionFailed, |_| {})
        .push(EventType::ExecutionRedriven, |_| {})
        .push(EventType::ExecutionFailed, |_| {})
        .push(EventType::ExecutionRedriven, |_| {});
    let events = history.export();
    assert_eq!(
        events[2]["executionRedrivenEventDetails"],
        json!({ "redriveCount": 1 })
    );
    assert_eq!(
        events[4]["executionRedrivenEventDetails"],
        json!({ "redriveCount": 2 })
    );
}

#[test]
fn timestamps_are_epoch_seconds_to_the_millisecond() {
    let at = |time: SystemTime| {
        let event = Event::new(1, 0, time, EventType::ExecutionStarted);
        History::from_events(vec![event]).to_aws_json()["events"][0]["timestamp"].clone()
    };
    let epoch = SystemTime::UNIX_EPOCH;
    assert_eq!(
        at(epoch + Duration::new(1_700_000_000, 123_456_789)),
        json!(1_700_000_000.123)
    );
    assert_eq!(at(epoch), json!(0.0));
    assert_eq!(at(epoch - Duration::from_millis(2500)), json!(-2.5));
}

#[test]
fn every_event_type_exports_under_its_own_name() {
    use EventType::*;
    for kind in [
        ExecutionRedriven,
        TaskSubmitted,
        ChoiceStateEntered,
        WaitStateExited,
        SucceedStateExited,
        ParallelStateAborted,
        MapStateAborted,
    ] {
        let event = Event::new(1, 0, SystemTime::UNIX_EPOCH, kind);
        let json = History::from_events(vec![event]).to_aws_json();
        assert_eq!(json["events"][0]["type"], kind.name());
    }
}

#[test]
fn iteration_labels_are_read_strictly() {
    assert_eq!(iteration_index("Transform[3]"), Some(3));
    assert_eq!(iteration_index("Enrich/1/Each[10]"), Some(10));
    for label in [
        "Enrich/1", "Each[]", "Each[+1]", "Each[-1]", "Each[1", "[x]", "",
    ] {
        assert_eq!(iteration_index(label), None, "{label}");
    }
    let huge = format!("Each[{}]", "9".repeat(40));
    assert_eq!(iteration_index(&huge), None);
}

/// Recorded Step Functions histories, when `ASL_CONFORMANCE_CASES` names a folder of them
/// (one JSON file per execution, each with `expected.events[].type` and `.details`, the
/// event's `*EventDetails` object): every event type of ours that AWS recorded exports the
/// fields AWS wrote for it, but for those the runtime has no equivalent of.
#[test]
fn details_have_the_fields_step_functions_records() {
    use std::collections::{BTreeMap, BTreeSet};

    let Some(folder) = std::env::var_os("ASL_CONFORMANCE_CASES") else {
        return;
    };
    let mut recorded: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&folder).expect("a folder of cases") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let case: Value = serde_json::from_str(&text).expect("JSON");
        let Some(events) = case["expected"]["events"].as_array() else {
            continue;
        };
        for event in events {
            let (Some(kind), Some(details)) =
                (event["type"].as_str(), event["details"].as_object())
            else {
                continue;
            };
            recorded
                .entry(kind.to_owned())
                .or_default()
                .extend(details.keys().cloned());
        }
    }
    assert!(!recorded.is_empty(), "no recorded events in {folder:?}");
    // What AWS records and the runtime has no equivalent of, or knows only from other events.
    let unknown = [
        "roleArn",
        "region",
        "heartbeatInSeconds",
        "timeoutInSeconds",
        "taskCredentials",
        "assignedVariables",
        "assignedVariablesDetails",
        "parameters",
        "length",
    ];
    let mut checked = 0;
    for (name, aws_fields) in &recorded {
        let Ok(kind) = serde_json::from_value::<EventType>(json!(name)) else {
            continue;
        };
        let mut event = Event::new(1, 0, SystemTime::UNIX_EPOCH, kind);
        event.state = Some("State".into());
        event.branch = Some("State[0]".into());
        event.input = Some(json!({ "in": 1 }));
        event.output = Some(json!({ "out": 1 }));
        event.error = Some("Error".into());
        event.cause = Some("Cause".into());
        let exported = &History::from_events(vec![event]).to_aws_json()["events"][0];
        let ours: BTreeSet<String> = exported
            .as_object()
            .expect("an object")
            .iter()
            .filter(|(key, _)| key.ends_with("EventDetails"))
            .flat_map(|(_, details)| details.as_object().expect("an object").keys().cloned())
            .collect();
        // The API defines a cause for TaskTimedOut; the recorded histories had none to give.
        let extra: Vec<&String> = ours
            .difference(aws_fields)
            .filter(|field| !(kind == EventType::TaskTimedOut && *field == "cause"))
            .collect();
        let missing: Vec<&String> = aws_fields
            .difference(&ours)
            .filter(|field| !unknown.contains(&field.as_str()))
            .collect();
        // Output on a TaskSubmitted is the service's answer, which a step never gives.
        let missing: Vec<&String> = missing
            .into_iter()
            .filter(|field| !(kind == EventType::TaskSubmitted && field.starts_with("output")))
            .collect();
        assert!(
            extra.is_empty(),
            "{name}: fields AWS does not write: {extra:?}"
        );
        assert!(missing.is_empty(), "{name}: fields AWS writes: {missing:?}");
        checked += 1;
    }
    assert!(checked > 20, "only {checked} event types checked");
}
