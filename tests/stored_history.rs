//! Every store keeps each history without gaps or overlaps, and writes to an execution only
//! on the conditions it expects, in the same transaction: an append must follow the last
//! stored event of a running execution, so two runtimes appending to one execution cannot
//! both succeed, and nothing is appended to (or rewrites) an execution that has ended. A
//! refused append leaves the history as it was; an append that is stored already, exactly so
//! (tried again after its answer was lost), is taken without writing it twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::time::Duration;

use workflow::prelude::*;
use workflow::store::{ExecutionEnd, StoreError};
use workflow::{EventType, ExecutionId, ExecutionStatus};

mod support {
    pub(crate) mod stores;
}
use support::stores::stores;

#[step]
async fn double(value: u32) -> u32 {
    value * 2
}

workflow! {
    /// Doubles, then waits long enough for the test to append by hand.
    Doubling: Standard<u32, u32> {
        start Double;
        Double: task double -> Pause;
        Pause: wait 1h -> end;
    }
}

#[tokio::test]
async fn appends_follow_the_history_of_a_running_execution_on_every_store() {
    for (label, store, _keep) in stores().await {
        let runtime = Runtime::builder()
            .store_arc(std::sync::Arc::clone(&store))
            .register::<Doubling>()
            .build()
            .expect("builds");
        let handle = runtime.start::<Doubling>(21).await.expect("starts");
        let id = handle.id().clone();
        let stored = loop {
            let events = store.history(&id, 0, usize::MAX).await.expect(label);
            if events
                .iter()
                .any(|event| event.kind == EventType::WaitStateEntered)
            {
                break events;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let last = stored.last().expect("a history").clone();
        // The run of the execution stops here, so that only this test appends.
        runtime.shutdown();

        store
            .append(&id, std::slice::from_ref(&last), None)
            .await
            .unwrap_or_else(|error| panic!("{label}: the same event again is taken: {error}"));
        let mut overlapping = last.clone();
        overlapping.timestamp += Duration::from_secs(1);
        let mut gapped = last.clone();
        gapped.id = last.id + 2;
        gapped.previous_event_id = last.id + 1;
        for (stray, says) in [
            (
                overlapping,
                "stored already, with other contents".to_owned(),
            ),
            (gapped, format!("do not follow event {}", last.id)),
        ] {
            let refused = store.append(&id, std::slice::from_ref(&stray), None).await;
            match refused {
                Err(StoreError::Conflict { reason, .. }) => {
                    assert!(
                        reason.contains(&says),
                        "{label}: event {}: {reason}",
                        stray.id
                    )
                }
                other => panic!("{label}: event {}: {other:?}", stray.id),
            }
        }
        let after = store.history(&id, 0, usize::MAX).await.expect(label);
        assert_eq!(after, stored, "{label}: nothing was written");

        // An append to an execution that does not exist is refused, and leaves no history.
        let nobody = ExecutionId::from("no-such-execution");
        match store
            .append(&nobody, std::slice::from_ref(&stored[0]), None)
            .await
        {
            Err(StoreError::Conflict { reason, .. }) => {
                assert!(reason.contains("no such execution"), "{label}: {reason}");
            }
            other => panic!("{label}: an append to no execution: {other:?}"),
        }
        assert!(
            store
                .history(&nobody, 0, usize::MAX)
                .await
                .unwrap_or_default()
                .is_empty(),
            "{label}: nothing was written"
        );

        let mut next = last.clone();
        next.id = last.id + 1;
        next.previous_event_id = last.id;
        next.kind = EventType::WaitStateExited;
        store
            .append(&id, std::slice::from_ref(&next), None)
            .await
            .unwrap_or_else(|error| panic!("{label}: the next event is taken: {error}"));
        let mut succeeded = next.clone();
        succeeded.id = next.id + 1;
        succeeded.previous_event_id = next.id;
        succeeded.kind = EventType::ExecutionSucceeded;
        succeeded.output = Some(serde_json::json!(42));
        let end = ExecutionEnd {
            status: ExecutionStatus::Succeeded,
            output: Some(serde_json::json!(42)),
            error: None,
            cause: None,
            failed_state: None,
            stopped_at: succeeded.timestamp,
        };
        store
            .append(&id, std::slice::from_ref(&succeeded), Some(end.clone()))
            .await
            .unwrap_or_else(|error| panic!("{label}: the end is taken: {error}"));
        // The same end again (its answer lost) is taken without a second write.
        store
            .append(&id, std::slice::from_ref(&succeeded), Some(end))
            .await
            .unwrap_or_else(|error| panic!("{label}: the same end again is taken: {error}"));

        // An ended execution takes no more events, and its end is not rewritten.
        let mut aborted = succeeded.clone();
        aborted.id = succeeded.id + 1;
        aborted.previous_event_id = succeeded.id;
        aborted.kind = EventType::ExecutionAborted;
        aborted.output = None;
        let abort = ExecutionEnd {
            status: ExecutionStatus::Aborted,
            output: None,
            error: None,
            cause: None,
            failed_state: None,
            stopped_at: aborted.timestamp,
        };
        for end in [None, Some(abort)] {
            match store.append(&id, std::slice::from_ref(&aborted), end).await {
                Err(StoreError::Conflict { reason, .. }) => {
                    assert!(reason.contains("not running"), "{label}: {reason}")
                }
                other => panic!("{label}: appended to an ended execution: {other:?}"),
            }
        }
        let record = store.execution(&id).await.expect(label).expect(label);
        assert_eq!(record.status, ExecutionStatus::Succeeded, "{label}");
        assert_eq!(record.output, Some(serde_json::json!(42)), "{label}");
        let history = store.history(&id, 0, usize::MAX).await.expect(label);
        assert_eq!(history.len(), stored.len() + 2, "{label}");
        assert_eq!(
            history.last().map(|event| event.kind),
            Some(EventType::ExecutionSucceeded),
            "{label}"
        );
    }
}
