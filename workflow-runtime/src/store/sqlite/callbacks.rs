//! Callbacks in SQLite: the `callbacks` table and its reads and writes. Writes run inside the
//! writer's transactions, so a change to a pending callback is atomic.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::database;
use crate::store::encoding::{nanos, CallbackColumns};
use crate::store::{
    CallbackChange, CallbackRecord, CallbackStatus, CallbackUpdate, NewCallback, StoreError,
};

/// The table, created with the rest of the schema (version 3).
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS callbacks (
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

/// Creates a pending callback.
pub(super) fn create(connection: &Connection, callback: &NewCallback) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO callbacks (token_hash, execution_id, workflow, state, event_id, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                callback.token_hash,
                callback.execution.as_str(),
                callback.workflow,
                callback.state,
                callback.event_id as i64,
                CallbackStatus::Pending.as_str(),
                nanos(callback.created_at),
            ],
        )
        .map(|_| ())
        .map_err(database)
}

/// Applies `change` to a pending callback; what became of it.
pub(super) fn change(
    connection: &Connection,
    token_hash: &str,
    change: &CallbackChange,
) -> Result<CallbackUpdate, StoreError> {
    let Some(mut record) = read(connection, "WHERE token_hash = ?1", params![token_hash])? else {
        return Ok(CallbackUpdate::Unknown);
    };
    let update = record.apply(change);
    if matches!(update, CallbackUpdate::Applied(_)) {
        connection
            .execute(
                "UPDATE callbacks SET status = ?2, output = ?3, error = ?4, cause = ?5, heartbeat_at = ?6
                 WHERE token_hash = ?1 AND status = 'pending'",
                params![
                    token_hash,
                    record.status.as_str(),
                    record.output.as_ref().map(Value::to_string),
                    record.error,
                    record.cause,
                    record.heartbeat_at.map(nanos),
                ],
            )
            .map_err(database)?;
    }
    Ok(update)
}

/// Deletes callbacks no longer pending created before `before` (nanoseconds).
pub(super) fn purge(connection: &Connection, before: i64) -> Result<(), StoreError> {
    connection
        .execute(
            "DELETE FROM callbacks WHERE status <> 'pending' AND created_at < ?1",
            params![before],
        )
        .map(|_| ())
        .map_err(database)
}

/// The callback matching `filter` (a `WHERE` clause over `params`).
pub(super) fn read(
    connection: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Option<CallbackRecord>, StoreError> {
    connection
        .query_row(
            &format!(
                "SELECT token_hash, execution_id, workflow, state, event_id, status, output, error, cause, heartbeat_at, created_at
                 FROM callbacks {filter}"
            ),
            params,
            |row| {
                Ok(CallbackColumns {
                    token_hash: row.get(0)?,
                    execution: row.get(1)?,
                    workflow: row.get(2)?,
                    state: row.get(3)?,
                    event_id: row.get(4)?,
                    status: row.get(5)?,
                    output: row.get(6)?,
                    error: row.get(7)?,
                    cause: row.get(8)?,
                    heartbeat_at: row.get(9)?,
                    created_at: row.get(10)?,
                })
            },
        )
        .optional()
        .map_err(database)?
        .map(CallbackColumns::into_record)
        .transpose()
}
