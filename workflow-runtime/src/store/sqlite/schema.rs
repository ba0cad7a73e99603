//! The schema: the tables, and migrations from older versions.

use rusqlite::{Connection, OptionalExtension};

use super::error::database;
use crate::store::StoreError;

/// The schema this build reads and writes. Version 2 added `executions.fingerprint`, version 3
/// the `callbacks` table, version 4 the leases of executions (`owner`, `lease_token`,
/// `lease_until`), version 5 `definitions`, version 6 `requests`, version 7 `history` in place
/// of `events`.
pub(super) const SCHEMA_VERSION: i64 = 7;

/// Histories, as of version 7: each append's events are one row (a JSON array of events
/// `first_id..=last_id`), in the order they were appended, found through a small index. One
/// row per event, clustered by execution (as `events` did), had every append rewrite a page
/// of its execution's rows: with thousands of executions running, a commit wrote a page per
/// append. Appended rows now fill fresh pages, and only the index's small entries scatter.
const HISTORY: &str = "CREATE TABLE IF NOT EXISTS history (
         seq INTEGER PRIMARY KEY,
         execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
         first_id INTEGER NOT NULL,
         last_id INTEGER NOT NULL,
         events TEXT NOT NULL
     );
     CREATE UNIQUE INDEX IF NOT EXISTS history_by_execution ON history (execution_id, first_id);";

/// The callbacks, created with the rest of the schema (version 3).
const CALLBACKS: &str = "CREATE TABLE IF NOT EXISTS callbacks (
         token_hash TEXT PRIMARY KEY,
         execution_id TEXT NOT NULL,
         workflow TEXT NOT NULL,
         state TEXT NOT NULL,
         event_id INTEGER NOT NULL,
         status TEXT NOT NULL,
         output TEXT,
         error TEXT,
         cause TEXT,
         heartbeat_at INTEGER,
         created_at INTEGER NOT NULL
     );
     CREATE INDEX IF NOT EXISTS callbacks_by_attempt ON callbacks (execution_id, event_id);";

/// Moves the rows of a version 6 (or older) `events` table into `history`, one row each.
const EVENTS_TO_HISTORY: &str = "INSERT INTO history (execution_id, first_id, last_id, events)
         SELECT execution_id, id, id, '[' || event || ']' FROM events ORDER BY execution_id, id;
     DROP TABLE events;";

/// The lease columns, added by version 4.
const LEASES: &str = "ALTER TABLE executions ADD COLUMN owner TEXT;
     ALTER TABLE executions ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE executions ADD COLUMN lease_until INTEGER;";

/// Creates or upgrades the tables, in one immediate transaction so that processes opening the
/// same file together do not race (the second waits, then finds the work done).
pub(super) fn migrate(connection: &Connection) -> Result<(), StoreError> {
    connection
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(database)?;
    match migrate_within(connection) {
        Ok(()) => connection.execute_batch("COMMIT").map_err(database),
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

fn migrate_within(connection: &Connection) -> Result<(), StoreError> {
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
                 owner TEXT,
                 lease_token INTEGER NOT NULL DEFAULT 0,
                 lease_until INTEGER,
                 UNIQUE (workflow, name)
             );
             CREATE INDEX IF NOT EXISTS executions_by_start ON executions (started_at);
             CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status, started_at);",
        )
        .map_err(database)?;
    connection.execute_batch(HISTORY).map_err(database)?;
    connection.execute_batch(CALLBACKS).map_err(database)?;
    // Version 5: definitions as runtimes registered them; version 6: requests.
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS definitions (
                 workflow TEXT NOT NULL,
                 fingerprint TEXT NOT NULL,
                 definition TEXT NOT NULL,
                 registered_at INTEGER NOT NULL,
                 PRIMARY KEY (workflow, fingerprint)
             );
             CREATE TABLE IF NOT EXISTS requests (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 execution_id TEXT NOT NULL,
                 workflow TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 error TEXT,
                 cause TEXT,
                 requested_at INTEGER NOT NULL,
                 status TEXT NOT NULL,
                 outcome TEXT
             );
             CREATE INDEX IF NOT EXISTS requests_by_status ON requests (status, id);",
        )
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
        // Step by step from an older version (the callbacks and definitions tables were
        // created above).
        Some(version @ 1..=6) => {
            if version < 2 {
                connection
                    .execute_batch(
                        "ALTER TABLE executions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';",
                    )
                    .map_err(database)?;
            }
            if version < 4 {
                connection.execute_batch(LEASES).map_err(database)?;
            }
            let has_events: bool = connection
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events')",
                    [],
                    |row| row.get(0),
                )
                .map_err(database)?;
            if has_events {
                connection
                    .execute_batch(EVENTS_TO_HISTORY)
                    .map_err(database)?;
            }
            connection
                .execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                    [SCHEMA_VERSION],
                )
                .map(|_| ())
                .map_err(database)
        }
        Some(found) => Err(StoreError::Schema {
            found,
            expected: SCHEMA_VERSION,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(connection: &Connection) -> i64 {
        connection
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .unwrap_or(-1)
    }

    /// A database as version 1 left it: no fingerprints, no callbacks.
    fn version_one() -> Connection {
        let connection = Connection::open_in_memory().unwrap_or_else(|error| panic!("{error}"));
        connection
            .execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 INSERT INTO meta VALUES ('schema_version', 1);
                 CREATE TABLE executions (
                     id TEXT PRIMARY KEY, name TEXT NOT NULL, workflow TEXT NOT NULL,
                     status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT,
                     cause TEXT, started_at INTEGER NOT NULL, stopped_at INTEGER,
                     UNIQUE (workflow, name));
                 INSERT INTO executions (id, name, workflow, status, input, started_at)
                     VALUES ('x', 'n', 'W', 'RUNNING', '{}', 0);",
            )
            .unwrap_or_else(|error| panic!("{error}"));
        connection
    }

    #[test]
    fn older_databases_are_brought_up_to_date_keeping_their_rows() {
        let three = version_one();
        three
            .execute_batch(
                "ALTER TABLE executions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
                 UPDATE meta SET value = 3 WHERE key = 'schema_version';",
            )
            .unwrap_or_else(|error| panic!("{error}"));
        migrate(&three).unwrap_or_else(|error| panic!("{error}"));
        let token: i64 = three
            .query_row(
                "SELECT lease_token FROM executions WHERE id = 'x'",
                [],
                |row| row.get(0),
            )
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(token, 0);
        let definitions: i64 = three
            .query_row("SELECT COUNT(*) FROM definitions", [], |row| row.get(0))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(definitions, 0);

        // Version 4 (leases, no definitions) gains the definitions table only.
        let four = version_one();
        four.execute_batch(
            "ALTER TABLE executions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
             UPDATE meta SET value = 3 WHERE key = 'schema_version';",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        migrate(&four).unwrap_or_else(|error| panic!("{error}"));
        four.execute_batch(
            "DROP TABLE definitions; UPDATE meta SET value = 4 WHERE key = 'schema_version';",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        migrate(&four).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(version(&four), SCHEMA_VERSION);
        let rows: i64 = four
            .query_row("SELECT COUNT(*) FROM executions", [], |row| row.get(0))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(rows, 1);

        let old = version_one();
        migrate(&old).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(version(&old), SCHEMA_VERSION);
        let fingerprint: String = old
            .query_row(
                "SELECT fingerprint FROM executions WHERE id = 'x'",
                [],
                |row| row.get(0),
            )
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(fingerprint, "");
        let callbacks: i64 = old
            .query_row("SELECT COUNT(*) FROM callbacks", [], |row| row.get(0))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(callbacks, 0);

        let two = version_one();
        two.execute_batch(
            "ALTER TABLE executions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
             UPDATE meta SET value = 2 WHERE key = 'schema_version';",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        migrate(&two).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(version(&two), SCHEMA_VERSION);
        // Opening again changes nothing.
        migrate(&two).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(version(&two), SCHEMA_VERSION);
    }

    #[test]
    fn version_six_events_move_into_history_one_row_each() {
        let six = version_one();
        six.execute_batch(&format!(
            "ALTER TABLE executions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
             {LEASES}
             CREATE TABLE events (
                 execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
                 id INTEGER NOT NULL,
                 event TEXT NOT NULL,
                 PRIMARY KEY (execution_id, id)
             ) WITHOUT ROWID;
             INSERT INTO events VALUES ('x', 1, '{{\"id\":1}}'), ('x', 2, '{{\"id\":2}}');
             UPDATE meta SET value = 6 WHERE key = 'schema_version';"
        ))
        .unwrap_or_else(|error| panic!("{error}"));
        migrate(&six).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(version(&six), SCHEMA_VERSION);
        let rows: Vec<(i64, i64, String)> = six
            .prepare("SELECT first_id, last_id, events FROM history WHERE execution_id = 'x' ORDER BY first_id")
            .and_then(|mut select| {
                select
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect()
            })
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            rows,
            [
                (1, 1, "[{\"id\":1}]".to_owned()),
                (2, 2, "[{\"id\":2}]".to_owned())
            ]
        );
        let events_left: bool = six
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'events')",
                [],
                |row| row.get(0),
            )
            .unwrap_or_else(|error| panic!("{error}"));
        assert!(!events_left);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let newer = version_one();
        newer
            .execute(
                "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
                [],
            )
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            migrate(&newer).err(),
            Some(StoreError::Schema {
                found: 99,
                expected: SCHEMA_VERSION
            })
        );
    }
}
