//! A SQLite store keeps each history without gaps or overlaps: an append must follow the
//! execution's last stored event, so two runtimes appending to the same execution cannot
//! both succeed, and a refused append leaves the history as it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;

use workflow::prelude::*;
use workflow::store::{SqliteStore, Store};

#[step]
async fn double(value: u32) -> u32 {
    value * 2
}

workflow! {
    Doubling: Standard<u32, u32> {
        start Double;
        Double: task double -> end;
    }
}

#[tokio::test]
async fn an_append_that_does_not_follow_the_last_stored_event_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("executions.db")).expect("opens"));
    let runtime = Runtime::builder()
        .store_arc(Arc::clone(&store))
        .register::<Doubling>()
        .build()
        .expect("builds");
    let handle = runtime.start::<Doubling>(21).await.expect("starts");
    assert_eq!(handle.result().await.expect("ends"), Ok(42));
    let stored = store
        .history(handle.id(), 0, usize::MAX)
        .await
        .expect("reads");
    let last = stored.last().expect("a history").clone();

    let mut overlapping = last.clone();
    overlapping.previous_event_id = last.id - 1;
    let mut gapped = last.clone();
    gapped.id = last.id + 2;
    gapped.previous_event_id = last.id + 1;
    for stray in [overlapping, gapped] {
        let refused = store.append(handle.id(), vec![stray.clone()], None).await;
        let error = refused.expect_err("refused").to_string();
        assert!(
            error.contains(&format!("do not follow event {}", last.id)),
            "event {}: {error}",
            stray.id
        );
    }
    let after = store
        .history(handle.id(), 0, usize::MAX)
        .await
        .expect("reads");
    assert_eq!(after, stored, "nothing was written");

    let mut next = last.clone();
    next.id = last.id + 1;
    next.previous_event_id = last.id;
    store
        .append(handle.id(), vec![next], None)
        .await
        .expect("the next event is taken");
}
