//! The SQLite store's connections: one commits, one reads, both to the same file and set up
//! alike; their busy timeout lets processes sharing the file take turns at its write lock.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::error::database;
use super::wal::CHECKPOINT_PAGES;
use crate::store::StoreError;

/// A connection to the file at `path` (created if needed), set up by [`configure`].
pub(super) fn open(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path).map_err(database)?;
    configure(&connection)?;
    Ok(connection)
}

/// Durable commits (WAL, `synchronous = FULL`). A 16 MiB page cache holds the pages that
/// thousands of running executions touch (the default 2 MiB made a busy store read its own
/// pages back from the file; 64 MiB ran 10,000 executions no faster, and kept 70 MiB more
/// resident beside 100,000 parked ones). Checkpoints every 10,000 pages (40 MiB of WAL)
/// rather than 1,000, so a page written by many commits is copied into the database once, not
/// each time; on the committing connection too, whose log `wal.rs` writes ahead.
fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection
        .execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -16384;
             PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES};"
        ))
        .map_err(database)?;
    connection
        .busy_timeout(Duration::from_secs(30))
        .map_err(database)
}
