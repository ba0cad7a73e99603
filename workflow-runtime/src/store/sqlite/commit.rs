//! The commit path: a batch of writes in one transaction on the writing connection, without
//! a savepoint per write; if a write fails, the batch again write by write, each in its
//! savepoint, so that the bad write fails alone. Each transaction first has the WAL's file
//! written ahead of the commit (`wal.rs`). Appends take their executions' rows from what the
//! committer's own writes left ([`KnownRows`]) while no other connection has written.

use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::error::database;
use super::sql::SqliteSql;
use super::wal::WalFile;
use crate::store::sql::{apply, now, Committer, KnownRows, Write, Written};
use crate::store::StoreError;

/// Commits the batches of the write queue on the writing connection.
pub(super) struct SqliteCommitter {
    writer: Connection,
    wal: WalFile,
    /// The rows of running executions as this connection last wrote them.
    known: KnownRows,
    /// `PRAGMA data_version` when `known` was last valid: another connection's commit since
    /// changes it.
    data_version: Option<i64>,
}

impl SqliteCommitter {
    /// The committer of the database at `path`, on its connection `writer`.
    pub(super) fn new(writer: Connection, path: &Path) -> Self {
        // SQLite's default when the query fails: writing ahead only saves time.
        let page_size = writer
            .query_row("PRAGMA page_size", [], |row| row.get::<_, u64>(0))
            .unwrap_or(4096);
        let wal = WalFile::open(path, page_size);
        SqliteCommitter {
            writer,
            wal,
            known: KnownRows::default(),
            data_version: None,
        }
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

/// Begins a transaction on `writer` and writes the WAL's file ahead of what it will commit.
fn begin<'c>(writer: &'c mut Connection, wal: &mut WalFile) -> rusqlite::Result<Transaction<'c>> {
    // Immediate: take the write lock first (waiting for it under the busy timeout), so a
    // transaction that reads before writing never fails on a snapshot another process made
    // stale. Writing ahead needs that lock too.
    let transaction = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
    wal.write_ahead();
    Ok(transaction)
}

impl SqliteCommitter {
    fn commit_together(
        &mut self,
        batch: &[Write],
    ) -> Result<Vec<Result<Written, StoreError>>, Together> {
        let transaction = begin(&mut self.writer, &mut self.wal).map_err(Together::CommitFailed)?;
        // Read under the write lock: no other connection commits until this transaction ends.
        let version = data_version(&transaction).map_err(Together::CommitFailed)?;
        if self.data_version != Some(version) {
            self.known.clear();
            self.data_version = Some(version);
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for write in batch {
            match now(apply(
                &SqliteSql(&transaction),
                write,
                Some(&mut self.known),
            )) {
                Ok(written) => {
                    self.known.applied(write);
                    outcomes.push(Ok(written));
                }
                // Dropping the transaction rolls it back, and what it taught goes with it.
                Err(_) => {
                    self.known.clear();
                    return Err(Together::WriteFailed);
                }
            }
        }
        transaction.commit().map_err(|error| {
            self.known.clear();
            Together::CommitFailed(error)
        })?;
        Ok(outcomes)
    }

    /// Without [`KnownRows`]: rare, and a savepoint rolled back would have to undo what its
    /// write taught.
    fn commit_one_by_one(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
        self.known.clear();
        let mut transaction = match begin(&mut self.writer, &mut self.wal) {
            Ok(transaction) => transaction,
            Err(error) => return every(batch.len(), database(error)),
        };
        let mut outcomes = Vec::with_capacity(batch.len());
        for write in batch {
            let outcome = match transaction.savepoint() {
                Ok(mut savepoint) => {
                    let outcome = now(apply(&SqliteSql(&savepoint), write, None));
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

/// SQLite's count of the commits of other connections to the database, as `connection` sees
/// it.
fn data_version(connection: &Connection) -> rusqlite::Result<i64> {
    connection
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))
}

/// `error` for each of `count` writes (a batch that did not commit).
fn every(count: usize, error: StoreError) -> Vec<Result<Written, StoreError>> {
    (0..count).map(|_| Err(error.clone())).collect()
}
