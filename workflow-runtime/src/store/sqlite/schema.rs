//! The schema: connection settings, the tables, and migrations from older versions.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use super::{callbacks, database};
use crate::store::StoreError;

/// The schema this build reads and writes. Version 2 added `executions.fingerprint`, version 3
/// the `callbacks` table.
const SCHEMA_VERSION: i64 = 3;

pub(super) fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(database)?;
    connection
        .busy_timeout(Duration::from_secs(30))
        .map_err(database)
}

pub(super) fn migrate(connection: &Connection) -> Result<(), StoreError> {
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS executions (
                 id TEXT PRIMARY KEY,
                 name TEXT NOT NULL,
                 workflow TEXT NOT NULL,
                 fingerprint TEXT NOT NULL DEFAULT '',
                 status TEXT NOT NULL,
                 input TEXT NOT NULL,
                 output TEXT,
                 error TEXT,
                 cause TEXT,
                 started_at INTEGER NOT NULL,
                 stopped_at INTEGER,
                 UNIQUE (workflow, name)
             );
             CREATE INDEX IF NOT EXISTS executions_by_start ON executions (started_at);
             CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status, started_at);
             CREATE TABLE IF NOT EXISTS events (
                 execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
                 id INTEGER NOT NULL,
                 event TEXT NOT NULL,
                 PRIMARY KEY (execution_id, id)
             ) WITHOUT ROWID;",
        )
        .map_err(database)?;
    connection
        .execute_batch(callbacks::SCHEMA)
        .map_err(database)?;
    let found: Option<i64> = connection
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(database)?;
    match found {
        None => {
            connection
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION],
                )
                .map_err(database)?;
            Ok(())
        }
        Some(version) if version == SCHEMA_VERSION => Ok(()),
        Some(1) => {
            connection
                .execute_batch(
                    "ALTER TABLE executions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
                     UPDATE meta SET value = 3 WHERE key = 'schema_version';",
                )
                .map_err(database)?;
            Ok(())
        }
        // The callbacks table was created above.
        Some(2) => connection
            .execute("UPDATE meta SET value = 3 WHERE key = 'schema_version'", [])
            .map(|_| ())
            .map_err(database),
        Some(found) => Err(StoreError::Schema {
            found,
            expected: SCHEMA_VERSION,
        }),
    }
}
