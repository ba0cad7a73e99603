//! The PostgreSQL schema, and its migrations, applied at start-up under an advisory lock so
//! that workers starting together do not race.

use tokio_postgres::Client;

use super::error::database;
use crate::store::StoreError;

/// The schema this build reads and writes. Version 2 added the leases of executions,
/// version 3 the recorded definitions, version 4 the requests, version 5 `workflow_history`
/// in place of `workflow_events`: the shape of the SQLite store's tables (its version 7).
pub(super) const SCHEMA_VERSION: i64 = 5;

/// The lease columns, added by version 2 (and created with the table since).
const LEASES: &str = "
    ALTER TABLE workflow_executions ADD COLUMN IF NOT EXISTS owner TEXT;
    ALTER TABLE workflow_executions ADD COLUMN IF NOT EXISTS lease_token BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE workflow_executions ADD COLUMN IF NOT EXISTS lease_until BIGINT;
    CREATE INDEX IF NOT EXISTS workflow_executions_by_lease ON workflow_executions (status, lease_until);
";

/// Histories, as of version 5: each append's events are one row of `workflow_history` (a JSON
/// array of the events `first_id..=last_id`), as in the SQLite store, so both read and extend
/// a history with the same statements. Version 4 and older kept a row per event in
/// `workflow_events`; each of those becomes a row of its own.
const EVENTS_TO_HISTORY: &str = "
    INSERT INTO workflow_history (execution_id, first_id, last_id, events)
        SELECT execution_id, id, id, '[' || event || ']' FROM workflow_events;
    DROP TABLE workflow_events;
";

/// Locks out concurrent migrations (an arbitrary key, the same in every process).
const MIGRATION_LOCK: i64 = 0x776f_726b_666c_6f77;

const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS workflow_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS workflow_executions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        workflow TEXT NOT NULL,
        fingerprint TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        started_at BIGINT NOT NULL,
        stopped_at BIGINT,
        UNIQUE (workflow, name)
    );
    CREATE INDEX IF NOT EXISTS workflow_executions_by_start ON workflow_executions (started_at);
    CREATE INDEX IF NOT EXISTS workflow_executions_by_status ON workflow_executions (status, started_at);
    CREATE TABLE IF NOT EXISTS workflow_history (
        execution_id TEXT NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
        first_id BIGINT NOT NULL,
        last_id BIGINT NOT NULL,
        events TEXT NOT NULL,
        PRIMARY KEY (execution_id, first_id)
    );
    CREATE TABLE IF NOT EXISTS workflow_callbacks (
        token_hash TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL,
        workflow TEXT NOT NULL,
        state TEXT NOT NULL,
        event_id BIGINT NOT NULL,
        status TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        heartbeat_at BIGINT,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS workflow_callbacks_by_attempt ON workflow_callbacks (execution_id, event_id);
    CREATE TABLE IF NOT EXISTS workflow_definitions (
        workflow TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        definition TEXT NOT NULL,
        registered_at BIGINT NOT NULL,
        PRIMARY KEY (workflow, fingerprint)
    );
    CREATE TABLE IF NOT EXISTS workflow_requests (
        id BIGSERIAL PRIMARY KEY,
        execution_id TEXT NOT NULL,
        workflow TEXT NOT NULL,
        kind TEXT NOT NULL,
        error TEXT,
        cause TEXT,
        requested_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        outcome TEXT
    );
    CREATE INDEX IF NOT EXISTS workflow_requests_by_status ON workflow_requests (status, id);
";

/// Creates the tables if needed and checks the schema version, in one transaction. A schema
/// already current is left untouched: its DDL would lock tables that running workers use.
pub(super) async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<(), StoreError> {
    let transaction = client.transaction().await.map_err(database)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(database)?;
    if let Some(schema) = schema {
        // `schema` was checked to be a plain identifier.
        transaction
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(database)?;
    }
    let has_meta: bool = transaction
        .query_one("SELECT to_regclass('workflow_meta') IS NOT NULL", &[])
        .await
        .map_err(database)?
        .get(0);
    let found: Option<i64> = if has_meta {
        transaction
            .query_opt(
                "SELECT value FROM workflow_meta WHERE key = 'schema_version'",
                &[],
            )
            .await
            .map_err(database)?
            .map(|row| row.get(0))
    } else {
        None
    };
    let upgrade = match found {
        Some(version) if version == SCHEMA_VERSION => false,
        None | Some(1..=4) => true,
        Some(found) => {
            return Err(StoreError::Schema {
                found,
                expected: SCHEMA_VERSION,
            })
        }
    };
    if upgrade {
        transaction.batch_execute(TABLES).await.map_err(database)?;
        transaction.batch_execute(LEASES).await.map_err(database)?;
        let has_events: bool = transaction
            .query_one("SELECT to_regclass('workflow_events') IS NOT NULL", &[])
            .await
            .map_err(database)?
            .get(0);
        if has_events {
            transaction
                .batch_execute(EVENTS_TO_HISTORY)
                .await
                .map_err(database)?;
        }
        transaction
            .execute(
                "INSERT INTO workflow_meta (key, value) VALUES ('schema_version', $1)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(database)?;
    }
    transaction.commit().await.map_err(database)
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use tokio_postgres::{Config, NoTls};

    use super::super::PostgresStore;
    use super::*;
    use crate::execution::ExecutionId;
    use crate::history::{Event, EventType};
    use crate::store::Store;

    fn event(id: u64) -> Event {
        Event::new(
            id,
            id - 1,
            SystemTime::UNIX_EPOCH,
            EventType::PassStateEntered,
        )
    }

    /// A version 4 database (a row per event in `workflow_events`) keeps its histories, as
    /// appends of one event each, and takes appends after them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn version_four_events_move_into_history_one_row_each() {
        let Ok(url) = std::env::var("WORKFLOW_TEST_POSTGRES_URL") else {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL to run these tests on PostgreSQL)\n",
            );
            return;
        };
        let schema = format!("test_v4_{}", fastrand::u32(..));
        let config: Config = url.parse().expect("a URL");
        let (client, connection) = config.connect(NoTls).await.expect("connects");
        tokio::spawn(connection);
        let [one, two] = [event(1), event(2)].map(|event| {
            serde_json::to_string(&event)
                .expect("serialises")
                .replace('\'', "''")
        });
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {schema};
                 SET search_path = {schema};
                 CREATE TABLE workflow_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
                 INSERT INTO workflow_meta VALUES ('schema_version', 4);
                 CREATE TABLE workflow_executions (
                     id TEXT PRIMARY KEY, name TEXT NOT NULL, workflow TEXT NOT NULL,
                     fingerprint TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
                     input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
                     started_at BIGINT NOT NULL, stopped_at BIGINT, UNIQUE (workflow, name));
                 {LEASES}
                 CREATE TABLE workflow_events (
                     execution_id TEXT NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
                     id BIGINT NOT NULL, event TEXT NOT NULL, PRIMARY KEY (execution_id, id));
                 INSERT INTO workflow_executions (id, name, workflow, status, input, started_at)
                     VALUES ('x', 'n', 'W', 'Running', '{{}}', 0);
                 INSERT INTO workflow_events VALUES ('x', 1, '{one}'), ('x', 2, '{two}');"
            ))
            .await
            .expect("a version 4 schema");

        let store = PostgresStore::connect_in_schema(&url, &schema)
            .await
            .expect("migrates");
        let id = ExecutionId::from("x");
        store
            .append(&id, vec![event(3)], None)
            .await
            .expect("appends after the migrated events");
        let ids: Vec<u64> = store
            .full_history(&id)
            .await
            .expect("reads")
            .iter()
            .map(|event| event.id)
            .collect();
        assert_eq!(ids, [1, 2, 3]);
        let version: i64 = client
            .query_one("SELECT value FROM workflow_meta", &[])
            .await
            .and_then(|row| row.try_get(0))
            .expect("the version");
        assert_eq!(version, SCHEMA_VERSION);
        let events_left: bool = client
            .query_one("SELECT to_regclass('workflow_events') IS NOT NULL", &[])
            .await
            .and_then(|row| row.try_get(0))
            .expect("asked");
        assert!(!events_left);
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("dropped");
    }
}
