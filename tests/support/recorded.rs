//! Waiting, in a test's virtual time, for an execution to reach a point of its history.

use std::time::Duration;

use workflow::prelude::*;
use workflow::{EventType, ExecutionId};

/// Waits (in virtual time) until the execution's history holds an event of `kind`.
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
