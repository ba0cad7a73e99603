//! Every store the durable tests run against: memory, SQLite in a temporary file, and
//! PostgreSQL when `WORKFLOW_TEST_POSTGRES_URL` names a server (each call a fresh schema).
//! Without that variable the PostgreSQL runs are skipped, saying so; CI sets it.

use std::sync::Arc;

use workflow::store::{MemoryStore, PostgresStore, SqliteStore, Store};

/// What keeps a store's data alive while a test uses it.
pub(crate) type Keep = Option<tempfile::TempDir>;

/// The stores, labelled.
pub(crate) async fn stores() -> Vec<(&'static str, Arc<dyn Store>, Keep)> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = SqliteStore::open(dir.path().join("executions.db")).expect("opens");
    let mut stores: Vec<(&'static str, Arc<dyn Store>, Keep)> = vec![
        ("memory", Arc::new(MemoryStore::new()), None),
        ("sqlite", Arc::new(sqlite), Some(dir)),
    ];
    if let Some(postgres) = postgres().await {
        stores.push(("postgres", Arc::new(postgres), None));
    }
    stores
}

/// A PostgreSQL store in a schema of its own, or `None` (said on stderr) without a server.
pub(crate) async fn postgres() -> Option<PostgresStore> {
    let Ok(url) = std::env::var("WORKFLOW_TEST_POSTGRES_URL") else {
        // Straight to stderr: the test harness would capture `eprintln!` of a passing test.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL to run these tests on PostgreSQL)\n",
        );
        return None;
    };
    let schema = format!("test_{}", uuid_like());
    Some(
        PostgresStore::connect_in_schema(&url, &schema)
            .await
            .unwrap_or_else(|error| panic!("WORKFLOW_TEST_POSTGRES_URL={url}: {error}")),
    )
}

/// 16 random hex digits.
fn uuid_like() -> String {
    (0..16)
        .map(|_| format!("{:x}", fastrand::u8(0..16)))
        .collect()
}
