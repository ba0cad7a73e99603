//! A PostgreSQL store opened from the application's own connection settings
//! (`PostgresStore::builder_with_config`) rather than a URL: it runs executions as one opened
//! from a URL does, and never shows the password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;

use workflow::prelude::*;
use workflow::store::{PostgresConfig, PostgresStore, Store};
use workflow::ExecutionStatus;

#[step]
async fn double(number: u32) -> u32 {
    number * 2
}

workflow! {
    /// One task.
    Doubles: Standard<u32, u32> {
        start Work;
        Work: task double -> end;
    }
}

#[tokio::test]
async fn a_store_from_connection_settings_runs_executions() {
    let Ok(url) = std::env::var("WORKFLOW_TEST_POSTGRES_URL") else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL to run these tests on PostgreSQL)\n",
        );
        return;
    };
    // As an application would build them, from its own configuration.
    let mut settings: PostgresConfig = url.parse().expect("the test URL reads as settings");
    settings.application_name("workflow-settings-test");
    let schema = format!("settings_{}", fastrand::u32(..));
    let store = PostgresStore::builder_with_config(settings)
        .schema(&schema)
        .connect()
        .await
        .expect("connects");
    let store = Arc::new(store);
    let runtime = Runtime::builder()
        .store_arc(Arc::clone(&store) as Arc<dyn Store>)
        .register::<Doubles>()
        .build()
        .expect("builds");

    let handle = runtime.start::<Doubles>(21).await.expect("starts");
    assert_eq!(handle.result().await.expect("reads back"), Ok(42));
    let record = store
        .execution(handle.id())
        .await
        .expect("reads")
        .expect("stored");
    assert_eq!(record.status, ExecutionStatus::Succeeded);
}

#[test]
fn the_builder_never_shows_the_password() {
    let mut settings = PostgresConfig::new();
    settings
        .host("db.internal")
        .port(6432)
        .user("app")
        .password("s3cret")
        .dbname("orders");
    let shown = format!("{:?}", PostgresStore::builder_with_config(settings));
    assert!(
        shown.contains("postgres://app@db.internal:6432/orders"),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");
    let from_url = format!(
        "{:?}",
        PostgresStore::builder("postgres://app:s3cret@db.internal/orders")
    );
    assert!(!from_url.contains("s3cret"), "{from_url}");
}
