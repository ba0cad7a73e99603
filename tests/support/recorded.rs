//! Waiting, in a test's virtual time, for an execution to reach a point of its history, and
//! the time between two points of it.

use std::time::Duration;

use workflow::prelude::*;
use workflow::{Event, EventType, ExecutionId};

/// Waits (in virtual time) until the execution's history holds an event of `kind`.
#[allow(dead_code)] // Not every test that includes this file uses it.
pub(crate) async fn until_recorded(runtime: &Runtime, id: &ExecutionId, kind: EventType) {
    for _ in 0..10_000 {
        let events = runtime.history(id, 0, usize::MAX).await.expect("history");
        if events.iter().any(|event| event.kind == kind) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{kind} was never recorded");
}

/// The time from the first event of kind `from` to the first of kind `to` in `events`.
#[allow(dead_code)] // Not every test that includes this file uses it.
pub(crate) fn time_between(events: &[Event], from: EventType, to: EventType) -> Duration {
    let at = |kind: EventType| {
        events
            .iter()
            .find(|event| event.kind == kind)
            .unwrap_or_else(|| panic!("{kind} was never recorded"))
            .timestamp
    };
    at(to).duration_since(at(from)).expect("recorded in order")
}
