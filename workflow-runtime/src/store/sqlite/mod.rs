//! The embedded store: one SQLite file in WAL mode, synchronous commits, and group commit.
//!
//! Writes are queued. Whoever queues a write while no commit is under way starts one, on
//! tokio's blocking pool: it takes every request waiting at that moment, commits them in one
//! transaction without a savepoint per write (should one fail, the transaction is rolled back
//! and the batch applied again write by write, each in a savepoint, so that it fails alone),
//! answers each, and goes on while requests keep arriving. Concurrent executions therefore
//! share fsyncs: throughput is not bounded by one commit per transition. (Running commits on
//! the blocking pool also tells a paused tokio clock that work is under way, so virtual time
//! does not jump ahead while a write is pending.) Reads use a second connection. What each
//! write does, and what each read reads, is the shared SQL code's (`store::sql`), run on
//! these connections in SQLite's dialect (`sql.rs`); what the store offers beyond the core
//! trait is in `capabilities.rs`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;

mod capabilities;
mod failure;
mod presence;
mod read_only;
mod schema;
mod sql;

use failure::Failure;
use schema::{configure, migrate};
use sql::SqliteSql;

use super::queue::{queued_writes, Committer, Write, WriteQueue, Written};
use super::sql::{apply, now, read};
use super::{
    Callbacks, Definitions, ExecutionFilter, ExecutionRecord, Leases, Requests, Store, StoreError,
    StoreFuture,
};
use crate::execution::ExecutionId;
use crate::history::Event;

/// Executions and histories in one SQLite file.
///
/// ```
/// # fn main() -> Result<(), workflow::store::StoreError> {
/// let dir = tempfile::tempdir().expect("a temporary directory");
/// let store = workflow::store::SqliteStore::open(dir.path().join("workflows.db"))?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writes: WriteQueue,
    reader: Arc<Mutex<Connection>>,
}

/// The writing connection.
struct SqliteCommitter(Connection);

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn database(error: impl Failure) -> StoreError {
    error.store_error()
}

impl SqliteStore {
    /// Opens (creating if needed) the store in the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(database)?;
        }
        let writer = Connection::open(&path).map_err(database)?;
        configure(&writer)?;
        migrate(&writer)?;
        let reader = Connection::open(&path).map_err(database)?;
        configure(&reader)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writes: WriteQueue::new(SqliteCommitter(writer)),
                reader: Arc::new(Mutex::new(reader)),
            }),
        })
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
        &self.inner.path
    }

    /// Runs `read` on the reading connection, off the async threads.
    fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&SqliteSql<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<T> {
        let reader = Arc::clone(&self.inner.reader);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                read(&SqliteSql(
                    &reader.lock().unwrap_or_else(PoisonError::into_inner),
                ))
            })
            .await
            .map_err(database)?
        })
    }
}

impl Committer for SqliteCommitter {
    /// The whole batch in one transaction, without a savepoint per write: writes rarely fail,
    /// and two statements more per write are a good part of an append's cost. If one does
    /// fail, the transaction is rolled back and the batch applied again write by write, each
    /// in its savepoint, so that the bad write fails alone.
    fn commit(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
        match self.commit_together(batch) {
            Ok(outcomes) => outcomes,
            Err(Together::WriteFailed) => self.commit_one_by_one(batch),
            // Nothing of the batch is durable: every write fails.
            Err(Together::CommitFailed(error)) => every(batch.len(), database(error)),
        }
    }
}

/// Why a batch could not be committed in one go.
enum Together {
    /// A write failed; the transaction was rolled back.
    WriteFailed,
    /// The transaction could not begin or commit.
    CommitFailed(rusqlite::Error),
}

impl SqliteCommitter {
    fn begin(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        // Immediate: take the write lock first (waiting for it under the busy timeout), so a
        // transaction that reads before writing never fails on a snapshot another process
        // made stale.
        self.0
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    fn commit_together(
        &mut self,
        batch: &[Write],
    ) -> Result<Vec<Result<Written, StoreError>>, Together> {
        let transaction = self.begin().map_err(Together::CommitFailed)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for write in batch {
            match now(apply(&SqliteSql(&transaction), write)) {
                Ok(written) => outcomes.push(Ok(written)),
                // Dropping the transaction rolls it back.
                Err(_) => return Err(Together::WriteFailed),
            }
        }
        transaction.commit().map_err(Together::CommitFailed)?;
        Ok(outcomes)
    }

    fn commit_one_by_one(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
        let mut transaction = match self.begin() {
            Ok(transaction) => transaction,
            Err(error) => return every(batch.len(), database(error)),
        };
        let mut outcomes = Vec::with_capacity(batch.len());
        for write in batch {
            let outcome = match transaction.savepoint() {
                Ok(mut savepoint) => {
                    let outcome = now(apply(&SqliteSql(&savepoint), write));
                    let finished = match &outcome {
                        Ok(_) => savepoint.commit(),
                        Err(_) => savepoint.rollback(),
                    };
                    finished.map_err(database).and(outcome)
                }
                Err(error) => Err(database(error)),
            };
            outcomes.push(outcome);
        }
        match transaction.commit() {
            Ok(()) => outcomes,
            Err(error) => every(outcomes.len(), database(error)),
        }
    }
}

/// `error` for each of `count` writes (a batch that did not commit).
fn every(count: usize, error: StoreError) -> Vec<Result<Written, StoreError>> {
    (0..count).map(|_| Err(error.clone())).collect()
}

impl Store for SqliteStore {
    queued_writes!(Store);

    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>> {
        let id = execution.to_string();
        self.read(move |sql| now(read::execution(sql, &id)))
    }

    fn history(
        &self,
        execution: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> StoreFuture<Vec<Event>> {
        let id = execution.to_string();
        self.read(move |sql| now(read::history(sql, &id, after, limit)))
    }

    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>> {
        self.read(move |sql| now(read::list(sql, &filter)))
    }

    fn leases(&self) -> &dyn Leases {
        self
    }

    fn callbacks(&self) -> &dyn Callbacks {
        self
    }

    fn requests(&self) -> Option<&dyn Requests> {
        Some(self)
    }

    fn definitions(&self) -> Option<&dyn Definitions> {
        Some(self)
    }
}
