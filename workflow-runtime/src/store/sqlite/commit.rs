//! The commit path: a batch of writes in one transaction on the writing connection, without
//! a savepoint per write; if a write fails, the batch again write by write, each in its
//! savepoint, so that the bad write fails alone.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::error::database;
use super::sql::SqliteSql;
use crate::store::sql::{apply, now, Committer, Write, Written};
use crate::store::StoreError;

/// Commits the batches of the write queue on the writing connection.
pub(super) struct SqliteCommitter(Connection);

impl SqliteCommitter {
    pub(super) fn new(writer: Connection) -> Self {
        SqliteCommitter(writer)
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
    fn begin(&mut self) -> rusqlite::Result<Transaction<'_>> {
        // Immediate: take the write lock first (waiting for it under the busy timeout), so a
        // transaction that reads before writing never fails on a snapshot another process
        // made stale.
        self.0
            .transaction_with_behavior(TransactionBehavior::Immediate)
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
