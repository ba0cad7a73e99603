//! What is written can be read back, and one unreadable record is reported, never contagious:
//! inputs a store could not read back are refused before anything is written, and corrupted
//! rows among good ones are listed as unreadable while recovery resumes all the others.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::{ExecutionFilter, PostgresStore, SqliteStore, Store};
use workflow::{EventType, ExecutionStatus, RuntimeError, VirtualClock};

use crate::support::stores::stores;

/// Any JSON, nested as deep as it likes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Parcel {
    weight: f64,
    contents: serde_json::Value,
}

#[step]
async fn weigh(parcel: Parcel) -> f64 {
    parcel.weight
}

workflow! {
    /// Weighs, then waits an hour: long enough to be recovered.
    Scale: Standard<Parcel, f64> {
        start Weigh;
        Weigh: task weigh -> Pause;
        Pause: wait 1h -> end;
    }
}

fn runtime(store: Arc<dyn Store>) -> Runtime {
    Runtime::builder()
        .store_arc(store)
        .clock(VirtualClock::new())
        .register::<Scale>()
        .build()
        .expect("builds")
}

fn nested(levels: usize) -> serde_json::Value {
    let mut value = serde_json::json!("core");
    for _ in 0..levels {
        value = serde_json::json!([value]);
    }
    value
}

fn parcel(weight: f64, contents: serde_json::Value) -> Parcel {
    Parcel { weight, contents }
}

/// An input nested 130 levels deep, a NaN, and a 20 MiB input are refused at start, on every
/// store, and nothing is written.
#[tokio::test(start_paused = true)]
async fn inputs_that_would_not_read_back_are_refused_before_anything_is_written() {
    for (label, store, _keep) in stores().await {
        let runtime = runtime(Arc::clone(&store));
        let refused = [
            ("deep", parcel(1.0, nested(130)), "nests 131 levels deep"),
            ("nan", parcel(f64::NAN, serde_json::Value::Null), "NaN"),
            (
                "large",
                parcel(1.0, serde_json::json!("x".repeat(20 << 20))),
                "over the limit of 262144",
            ),
        ];
        for (name, input, says) in refused {
            match runtime.start_named::<Scale>(name, input).await {
                Err(RuntimeError::InvalidInput { reason }) => {
                    assert!(reason.contains(says), "{label}: {name}: {reason}")
                }
                other => panic!("{label}: {name}: {other:?}"),
            }
        }
        let listed = runtime.list(ExecutionFilter::all()).await.expect(label);
        assert!(listed.is_empty(), "{label}: {listed:?}");
        // Deep, but within the limit, is taken and reads back.
        let handle = runtime
            .start_named::<Scale>("fine", parcel(2.5, nested(90)))
            .await
            .expect(label);
        let record = runtime.describe(handle.id()).await.expect(label);
        assert_eq!(record.unreadable, None, "{label}");
        println!(
            "records ({label}): 3 inputs that would not read back refused at start, 0 written"
        );
    }
}

/// What is corrupted, in order, in the first three executions.
const CORRUPTED: [&str; 3] = ["status", "input", "history"];

/// Five executions waiting; three of them are corrupted in the store; a new runtime lists all
/// five (three marked unreadable), recovers the two good ones and reports the three others.
async fn one_bad_record_is_not_contagious(
    label: &str,
    store: Arc<dyn Store>,
    reopen: impl AsyncFn() -> Arc<dyn Store>,
    corrupt: impl AsyncFn(&str, &str),
) {
    let before = runtime(Arc::clone(&store));
    let mut ids = Vec::new();
    for number in 0..5 {
        let input = parcel(f64::from(number), serde_json::Value::Null);
        let handle = before
            .start_named::<Scale>(&format!("parcel-{number}"), input)
            .await
            .expect(label);
        ids.push(handle.id().clone());
    }
    for id in &ids {
        loop {
            let events = before.history(id, 0, 100).await.expect(label);
            if events
                .iter()
                .any(|event| event.kind == EventType::WaitStateEntered)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    before.shutdown();
    for (what, id) in CORRUPTED.iter().zip(&ids) {
        corrupt(what, id.as_str()).await;
    }

    let after = runtime(reopen().await);
    let listed = after.list(ExecutionFilter::all()).await.expect(label);
    assert_eq!(listed.len(), 5, "{label}");
    let unreadable: Vec<_> = listed
        .iter()
        .filter(|record| record.unreadable.is_some())
        .collect();
    assert_eq!(unreadable.len(), 2, "{label}: status and input: {listed:?}");
    let bad_status = listed
        .iter()
        .find(|record| record.id == ids[0])
        .expect(label);
    assert_eq!(bad_status.status, ExecutionStatus::Unknown, "{label}");

    let recovery = after.recover().await.expect(label);
    let mut resumed = recovery.resumed.clone();
    resumed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut good = ids[3..].to_vec();
    good.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(resumed, good, "{label}: {recovery:?}");
    let mut reported: Vec<_> = recovery
        .unreadable
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    reported.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut bad = ids[..3].to_vec();
    bad.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(reported, bad, "{label}: {recovery:?}");
    for id in &ids[3..] {
        let output = after
            .handle::<Scale>(id.clone())
            .result()
            .await
            .expect(label);
        assert!(output.is_ok(), "{label}: {output:?}");
    }
    println!(
        "records ({label}): 3 corrupted rows (a status, an input, a history) among 5: list showed 5 ({} marked unreadable), recover resumed {} and reported {} with their reasons",
        unreadable.len(),
        recovery.resumed.len(),
        recovery.unreadable.len()
    );
}

#[tokio::test(start_paused = true)]
async fn a_corrupted_sqlite_row_among_good_ones_is_reported_not_contagious() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("records.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("opens"));
    one_bad_record_is_not_contagious(
        "sqlite",
        store,
        async || -> Arc<dyn Store> {
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("opens"));
            store
        },
        async |what: &str, id: &str| {
            let statement = match what {
                "status" => "UPDATE executions SET status = 'Runnning' WHERE id = ?1",
                "input" => "UPDATE executions SET input = '{\"weight\": 1.0, ' WHERE id = ?1",
                _ => "UPDATE history SET events = '[{\"id\": 1, oops' WHERE execution_key = (SELECT key FROM executions WHERE id = ?1)",
            };
            let connection = rusqlite::Connection::open(&path).expect("opens");
            connection.execute(statement, [id]).expect(statement);
        },
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_corrupted_postgres_row_among_good_ones_is_reported_not_contagious() {
    let Ok(url) = std::env::var("WORKFLOW_TEST_POSTGRES_URL") else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL to run these tests on PostgreSQL)\n",
        );
        return;
    };
    let schema = format!("records_{}", fastrand::u32(..));
    let store: Arc<dyn Store> = Arc::new(
        PostgresStore::connect_in_schema(&url, &schema)
            .await
            .expect("connects"),
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(connection);
    let reopened = Arc::clone(&store);
    one_bad_record_is_not_contagious(
        "postgres",
        store,
        async || Arc::clone(&reopened),
        async |what: &str, id: &str| {
            let statement = match what {
                "status" => format!("UPDATE {schema}.workflow_executions SET status = 'Runnning' WHERE id = $1"),
                "input" => format!("UPDATE {schema}.workflow_executions SET input = '{{\"weight\": 1.0, ' WHERE id = $1"),
                _ => format!("UPDATE {schema}.workflow_history SET events = '[{{\"id\": 1, oops' WHERE execution_key = (SELECT key FROM {schema}.workflow_executions WHERE id = $1) AND first_id = 1"),
            };
            client.execute(&statement, &[&id]).await.expect(&statement);
        },
    )
    .await;
}
