//! Checks on how executions ended, shared by the tests that kill workers.

use workflow::store::ExecutionRecord;
use workflow::{Event, EventType, ExecutionStatus};

/// How an execution of a crash test ended: with the expected output, or failed because a task
/// was lost with its worker (the only failure allowed); panics on anything else.
pub(crate) fn succeeded_or_lost(record: &ExecutionRecord, output: serde_json::Value) -> bool {
    match record.status {
        ExecutionStatus::Succeeded => {
            assert_eq!(record.output, Some(output), "{}", record.name);
            true
        }
        ExecutionStatus::Failed => {
            assert_eq!(
                record.error.as_deref(),
                Some("States.TaskFailed"),
                "{}",
                record.name
            );
            assert!(
                record
                    .cause
                    .as_deref()
                    .unwrap_or_default()
                    .contains("was lost"),
                "{}: {:?}",
                record.name,
                record.cause
            );
            false
        }
        other => panic!("{} ended {other:?}", record.name),
    }
}

/// A well-formed history: ids 1..n, links to earlier events, starts with ExecutionStarted,
/// one terminal event, last.
pub(crate) fn assert_well_formed(events: &[Event], name: &str) {
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.id, index as u64 + 1, "{name}");
        assert!(event.previous_event_id < event.id, "{name}");
    }
    let terminal = |kind: EventType| {
        matches!(
            kind,
            EventType::ExecutionSucceeded
                | EventType::ExecutionFailed
                | EventType::ExecutionTimedOut
        )
    };
    assert_eq!(
        events.iter().filter(|event| terminal(event.kind)).count(),
        1,
        "{name}"
    );
    assert!(
        events.last().is_some_and(|event| terminal(event.kind)),
        "{name}"
    );
    assert_eq!(events[0].kind, EventType::ExecutionStarted, "{name}");
}
