//! The SQLite driver of the SQL store: one file in WAL mode, synchronous commits, group
//! commit.
//!
//! Writes are committed on one connection (`commit.rs`), each batch in one transaction
//! without a savepoint per write: should one write fail, the transaction is rolled back and
//! the batch applied again write by write, each in a savepoint, so that it fails alone. Reads
//! use a second connection (`connections.rs` opens both), on tokio's blocking pool. What each
//! write does and what each read reads is the shared SQL code's (`store::sql`), in SQLite's
//! dialect (`sql.rs`); the tables and their migrations are `schema.rs`'s, and what a SQLite
//! error means to the runtime `error.rs`'s. Beyond the shared store, SQLite tells which owners
//! of a file's executions are alive (`presence.rs`), and opens a file read-only for tools
//! (`read_only.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;

mod commit;
mod connections;
mod error;
mod presence;
mod read_only;
mod schema;
mod sql;
mod wal;

use commit::SqliteCommitter;
use error::database;
use sql::SqliteSql;

use super::sql::{now, Driver, SqlStore};
use super::{Liveness, Presence, StoreError, StoreFuture};

/// Executions and histories in one SQLite file: the [`SqlStore`] over [`Sqlite`].
///
/// ```
/// # fn main() -> Result<(), workflow::store::StoreError> {
/// let dir = tempfile::tempdir().expect("a temporary directory");
/// let store = workflow::store::SqliteStore::open(dir.path().join("workflows.db"))?;
/// # Ok(()) }
/// ```
pub type SqliteStore = SqlStore<Sqlite>;

/// SQLite under a [`SqlStore`]: the file, and the connection reads run on (the committing
/// connection is the store's queue's). A [`SqliteStore`] is opened with
/// [`SqliteStore::open`].
pub struct Sqlite {
    path: PathBuf,
    reader: Arc<Mutex<Connection>>,
}

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the store in the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(database)?;
        }
        let writer = connections::open(&path)?;
        schema::migrate(&writer)?;
        let reader = connections::open(&path)?;
        let committer = SqliteCommitter::new(writer, &path);
        Ok(SqlStore::new(
            Sqlite::new(path, reader),
            committer,
            Sqlite::STORE,
        ))
    }

    /// Opens the store in the existing file at `path` for reading only, for tools that look at
    /// a store that runtimes write: SQLite's read-only flag, no migration, a 2 s busy timeout
    /// (reads do not wait on writers), and every write refused with
    /// [`StoreError::Unsupported`]. It works on a file or directory it may not write (where
    /// the directory is writable, SQLite may create the WAL's `-shm` and empty `-wal` files
    /// beside the file, as any reader does; the file itself is not written). A file
    /// that does not exist or holds no workflow tables is refused
    /// ([`StoreError::InvalidUrl`]), and so is one of another schema version
    /// ([`StoreError::Schema`]: a runtime of this version upgrades it when it opens it).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        read_only::open(path.as_ref())
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.driver().path
    }
}

/// The file beside the database at `path` whose name adds `suffix` (SQLite's `-wal`, `-shm`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

impl Sqlite {
    fn new(path: PathBuf, reader: Connection) -> Self {
        Sqlite {
            path,
            reader: Arc::new(Mutex::new(reader)),
        }
    }
}

impl Driver for Sqlite {
    const STORE: &'static str = "SqliteStore";

    type Reader<'c> = SqliteSql<'c>;

    /// Runs `read` on the reading connection, on the blocking pool: its statements do not
    /// wait, so its future is ready when first polled.
    fn read<T, R>(&self, read: R) -> StoreFuture<T>
    where
        T: Send + 'static,
        R: for<'c> AsyncFn(&SqliteSql<'c>) -> Result<T, StoreError> + Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let connection = reader.lock().unwrap_or_else(PoisonError::into_inner);
                now(read(&SqliteSql(&connection)))
            })
            .await
            .map_err(database)?
        })
    }

    fn location(&self) -> (&'static str, &dyn std::fmt::Debug) {
        ("path", &self.path)
    }

    fn announce(&self, owner: &str) -> Result<Presence, StoreError> {
        presence::announce(&self.path, owner)
    }

    fn liveness(&self, owner: &str) -> Liveness {
        presence::liveness(&self.path, owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::ExecutionId;
    use crate::store::{RequestKind, Requests};

    /// Dropping the store's last handle once its writes are answered closes the database
    /// there and then (SQLite checkpoints and removes its log as the last connection
    /// closes), not later on the committing thread: a program may copy or open the file
    /// next.
    #[tokio::test]
    async fn dropping_the_store_after_its_answers_closes_the_database_at_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("store.db");
        for round in 0..200 {
            let store = SqliteStore::open(&path).expect("a store");
            store
                .request(
                    &ExecutionId::from("e-1"),
                    "W",
                    RequestKind::Redrive,
                    std::time::SystemTime::now(),
                )
                .await
                .expect("a request");
            drop(store);
            assert!(
                !beside(&path, "-wal").exists(),
                "round {round}: the log is still there after the store was dropped"
            );
        }
    }
}
