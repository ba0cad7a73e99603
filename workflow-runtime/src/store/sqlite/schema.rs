//! The schema: the tables, and migrations from older versions.

use rusqlite::{Connection, OptionalExtension};

use super::error::database;
use crate::store::StoreError;

/// The schema this build reads and writes. Version 2 added `executions.fingerprint`, version 3
/// the `callbacks` table, version 4 the leases of executions (`owner`, `lease_token`,
/// `lease_until`), version 5 `definitions`, version 6 `requests`, version 7 `history` in place
/// of `events`, version 8 an integer `key` for each execution that `history` refers to,
/// version 9 `executions.failed_state`, version 10 `executions.version`.
pub(super) const SCHEMA_VERSION: i64 = 10;

/// The executions, as of version 8: an integer key for the histories to refer to (the text
/// id stays unique, for everything else); version 9 added the state a failed execution
/// failed in, version 10 the workflow's version the execution runs on.
const EXECUTIONS: &str = "CREATE TABLE executions (
         key INTEGER PRIMARY KEY,
         id TEXT NOT NULL UNIQUE,
         name TEXT NOT NULL,
         workflow TEXT NOT NULL,
         fingerprint TEXT NOT NULL DEFAULT '',
         status TEXT NOT NULL,
         input TEXT NOT NULL,
         output TEXT,
         error TEXT,
         cause TEXT,
         failed_state TEXT,
         version INTEGER NOT NULL DEFAULT 1,
         started_at INTEGER NOT NULL,
         stopped_at INTEGER,
         owner TEXT,
         lease_token INTEGER NOT NULL DEFAULT 0,
         lease_until INTEGER,
         UNIQUE (workflow, name)
     );
     CREATE INDEX executions_by_start ON executions (started_at);
     CREATE INDEX executions_by_status ON executions (status, started_at);";

/// The columns of version 7's executions, copied into version 8's.
const EXECUTION_COLUMNS_V7: &str = "id, name, workflow, fingerprint, status, input, output, error, cause, started_at, stopped_at, owner, lease_token, lease_until";

/// Histories, as of version 7: each append's events are one row (a JSON array of events
/// `first_id..=last_id`), in the order they were appended, found through a small index. One
/// row per event, clustered by execution (as `events` did), had every append rewrite a page
/// of its execution's rows: with thousands of executions running, a commit wrote a page per
/// append. Appended rows now fill fresh pages, and only the index's small entries scatter.
/// Version 8 keys them by the execution's integer key rather than its 36-character id: the
/// index's entries are a fifth of the size, so a commit of thousands of appends dirties (and
/// writes to the WAL) a fifth of the index's pages.
const HISTORY: &str = "CREATE TABLE history (
         seq INTEGER PRIMARY KEY,
         execution_key INTEGER NOT NULL REFERENCES executions (key) ON DELETE CASCADE,
         first_id INTEGER NOT NULL,
         last_id INTEGER NOT NULL,
         events TEXT NOT NULL
     );
     CREATE UNIQUE INDEX history_by_execution ON history (execution_key, first_id);";

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
const EVENTS_TO_HISTORY: &str = "INSERT INTO history (execution_key, first_id, last_id, events)
         SELECT e.key, v.id, v.id, '[' || v.event || ']'
         FROM events v JOIN executions e ON e.id = v.execution_id ORDER BY v.execution_id, v.id;
     DROP TABLE events;";

/// Moves the rows of version 7's `history` (renamed `history_v7`) into version 8's.
const HISTORY_V7_TO_V8: &str = "INSERT INTO history (execution_key, first_id, last_id, events)
         SELECT e.key, h.first_id, h.last_id, h.events
         FROM history_v7 h JOIN executions e ON e.id = h.execution_id ORDER BY h.seq;
     DROP TABLE history_v7;";

/// The lease columns, added by version 4.
const LEASES: &str = "ALTER TABLE executions ADD COLUMN owner TEXT;
     ALTER TABLE executions ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE executions ADD COLUMN lease_until INTEGER;";

/// Creates or upgrades the tables, in one immediate transaction so that processes opening the
/// same file together do not race (the second waits, then finds the work done).
pub(super) fn migrate(connection: &Connection) -> Result<(), StoreError> {
    // Rebuilding a table drops the old one, which with foreign keys on would delete the rows
    // that refer to it; the setting cannot change inside a transaction.
    connection
        .execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE")
        .map_err(database)?;
    let migrated = match migrate_within(connection) {
        Ok(()) => connection.execute_batch("COMMIT").map_err(database),
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(error)
        }
    };
    connection
        .execute_batch("PRAGMA foreign_keys = ON")
        .map_err(database)
        .and(migrated)
}

fn migrate_within(connection: &Connection) -> Result<(), StoreError> {
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )
        .map_err(database)?;
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
            connection.execute_batch(EXECUTIONS).map_err(database)?;
            connection.execute_batch(HISTORY).map_err(database)?;
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
        Some(version @ 1..=9) => {
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
            rebuild_with_keys(connection)?;
            add_column(connection, "failed_state", "TEXT")?;
            add_column(connection, "version", "INTEGER NOT NULL DEFAULT 1")?;
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

/// A column added to `executions` in place, unless the table has it (it was rebuilt as of
/// this version from an older one): version 9's `failed_state`, the state a failed execution
/// failed in, and version 10's `version`, the workflow's version an execution runs on.
fn add_column(connection: &Connection, column: &str, kind: &str) -> Result<(), StoreError> {
    let present: bool = connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('executions') WHERE name = ?1)",
            [column],
            |row| row.get(0),
        )
        .map_err(database)?;
    if present {
        return Ok(());
    }
    connection
        .execute_batch(&format!(
            "ALTER TABLE executions ADD COLUMN {column} {kind};"
        ))
        .map_err(database)
}

/// Version 8: the executions table again with an integer key (given in order of start), and
/// the histories (of version 7's `history`, or of older versions' `events`) keyed by it.
fn rebuild_with_keys(connection: &Connection) -> Result<(), StoreError> {
    let exists = |table: &str| -> Result<bool, StoreError> {
        connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [table],
                |row| row.get(0),
            )
            .map_err(database)
    };
    let keyed: bool = connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('executions') WHERE name = 'key')",
            [],
            |row| row.get(0),
        )
        .map_err(database)?;
    if keyed {
        return Ok(());
    }
    let (has_history, has_events) = (exists("history")?, exists("events")?);
    connection
        .execute_batch(
            "DROP INDEX IF EXISTS executions_by_start;
             DROP INDEX IF EXISTS executions_by_status;
             ALTER TABLE executions RENAME TO executions_v7;",
        )
        .map_err(database)?;
    if has_history {
        connection
            .execute_batch(
                "DROP INDEX IF EXISTS history_by_execution;
                 ALTER TABLE history RENAME TO history_v7;",
            )
            .map_err(database)?;
    }
    connection.execute_batch(EXECUTIONS).map_err(database)?;
    connection.execute_batch(HISTORY).map_err(database)?;
    connection
        .execute_batch(&format!(
            "INSERT INTO executions ({EXECUTION_COLUMNS_V7})
                 SELECT {EXECUTION_COLUMNS_V7} FROM executions_v7 ORDER BY started_at, id;"
        ))
        .map_err(database)?;
    if has_history {
        connection
            .execute_batch(HISTORY_V7_TO_V8)
            .map_err(database)?;
    }
    if has_events {
        connection
            .execute_batch(EVENTS_TO_HISTORY)
            .map_err(database)?;
    }
    connection
        .execute_batch("DROP TABLE executions_v7;")
        .map_err(database)
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

    /// A version 8 database (integer keys, no failed state) gains the column, empty, and
    /// keeps its rows.
    #[test]
    fn version_eight_gains_the_failed_state() {
        let eight = Connection::open_in_memory().unwrap_or_else(|error| panic!("{error}"));
        migrate(&eight).unwrap_or_else(|error| panic!("{error}"));
        eight
            .execute_batch(
                "INSERT INTO executions (id, name, workflow, status, input, error, started_at)
                     VALUES ('x', 'n', 'W', 'FAILED', '{}', 'E', 0);
                 ALTER TABLE executions DROP COLUMN failed_state;
                 UPDATE meta SET value = 8 WHERE key = 'schema_version';",
            )
            .unwrap_or_else(|error| panic!("{error}"));
        migrate(&eight).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(version(&eight), SCHEMA_VERSION);
        let (error, state): (String, Option<String>) = eight
            .query_row(
                "SELECT error, failed_state FROM executions WHERE id = 'x'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!((error.as_str(), state), ("E", None));
    }

    /// A version 9 database gains the workflow's version of each execution: 1, the only one
    /// there was.
    #[test]
    fn version_nine_gains_the_version_of_each_execution() {
        let nine = Connection::open_in_memory().unwrap_or_else(|error| panic!("{error}"));
        migrate(&nine).unwrap_or_else(|error| panic!("{error}"));
        nine.execute_batch(
            "INSERT INTO executions (id, name, workflow, status, input, started_at)
                 VALUES ('x', 'n', 'W', 'RUNNING', '{}', 0);
             ALTER TABLE executions DROP COLUMN version;
             UPDATE meta SET value = 9 WHERE key = 'schema_version';",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        migrate(&nine).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(version(&nine), SCHEMA_VERSION);
        let (name, workflow_version): (String, i64) = nine
            .query_row(
                "SELECT name, version FROM executions WHERE id = 'x'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!((name.as_str(), workflow_version), ("n", 1));
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
            .prepare("SELECT first_id, last_id, events FROM history WHERE execution_key = (SELECT key FROM executions WHERE id = 'x') ORDER BY first_id")
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
    fn version_seven_histories_are_keyed_by_their_executions_integer_keys() {
        let seven = version_one();
        seven
            .execute_batch(&format!(
                "ALTER TABLE executions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
                 {LEASES}
                 CREATE TABLE history (
                     seq INTEGER PRIMARY KEY,
                     execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
                     first_id INTEGER NOT NULL,
                     last_id INTEGER NOT NULL,
                     events TEXT NOT NULL
                 );
                 CREATE UNIQUE INDEX history_by_execution ON history (execution_id, first_id);
                 INSERT INTO executions (id, name, workflow, status, input, started_at)
                     VALUES ('y', 'm', 'W', 'RUNNING', '{{}}', 1);
                 INSERT INTO history (execution_id, first_id, last_id, events)
                     VALUES ('x', 1, 2, '[1,2]'), ('y', 1, 1, '[1]'), ('x', 3, 3, '[3]');
                 UPDATE meta SET value = 7 WHERE key = 'schema_version';"
            ))
            .unwrap_or_else(|error| panic!("{error}"));

        migrate(&seven).unwrap_or_else(|error| panic!("{error}"));

        assert_eq!(version(&seven), SCHEMA_VERSION);
        let rows: Vec<(String, i64, i64, i64, String)> = seven
            .prepare(
                "SELECT e.id, e.key, h.first_id, h.last_id, h.events
                 FROM history h JOIN executions e ON e.key = h.execution_key ORDER BY h.seq",
            )
            .and_then(|mut select| {
                select
                    .query_map([], |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    })?
                    .collect()
            })
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            rows,
            [
                ("x".to_owned(), 1, 1, 2, "[1,2]".to_owned()),
                ("y".to_owned(), 2, 1, 1, "[1]".to_owned()),
                ("x".to_owned(), 1, 3, 3, "[3]".to_owned()),
            ],
            "every append kept, in order, keyed by its execution (keys in order of start)"
        );
        seven
            .execute("DELETE FROM executions WHERE id = 'x'", [])
            .unwrap_or_else(|error| panic!("{error}"));
        let (left, old_tables): (i64, i64) = seven
            .query_row(
                "SELECT (SELECT COUNT(*) FROM history),
                        (SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%_v7')",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            (left, old_tables),
            (1, 0),
            "a history goes with its execution"
        );
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
