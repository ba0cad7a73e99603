//! The PostgreSQL schema, and its migrations, applied at start-up under an advisory lock so
//! that workers starting together do not race.

use tokio_postgres::Client;

use super::database;
use crate::store::StoreError;

/// The schema this build reads and writes. Version 2 added the leases of executions,
/// version 3 the recorded definitions, version 4 the requests.
const SCHEMA_VERSION: i64 = 4;

/// The lease columns, added by version 2 (and created with the table since).
const LEASES: &str = "
    ALTER TABLE workflow_executions ADD COLUMN IF NOT EXISTS owner TEXT;
    ALTER TABLE workflow_executions ADD COLUMN IF NOT EXISTS lease_token BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE workflow_executions ADD COLUMN IF NOT EXISTS lease_until BIGINT;
    CREATE INDEX IF NOT EXISTS workflow_executions_by_lease ON workflow_executions (status, lease_until);
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
    CREATE TABLE IF NOT EXISTS workflow_events (
        execution_id TEXT NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
        id BIGINT NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (execution_id, id)
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
        None | Some(1..=3) => true,
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
