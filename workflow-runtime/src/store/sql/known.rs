//! What a committer knows of the rows of the executions it appends to, as its own writes left
//! them, so that an append need not read its execution's row back: its status (running), its
//! lease, the last event of its history and its key. Reading them was half of what an append
//! cost the committing thread (perf: `lock_for_append` 7.2 % of all samples against 4.9 % for
//! the insert, 5,000 executions in flight).
//!
//! Only a connection that is the database's one writer while it knows can keep this: SQLite's
//! committer, which holds the write lock for each transaction and reads
//! `PRAGMA data_version` at its start. That number changes when any other connection, in this
//! process or another, has committed since, and then everything known is forgotten. So is
//! everything after a transaction that does not commit, since what it taught was never
//! written. Every check an append makes is still made (the lease's owner and token, the
//! status, that its events follow the last one stored), against the known row instead of a
//! read one.

use std::collections::HashMap;

use super::apply::Locked;
use super::queue::Write;

/// Beyond this many executions, everything known is forgotten at once: entries of
/// executions that end or park are removed as they do, so only executions abandoned without
/// either (a runtime dropped mid-run) pile up.
const MOST_KNOWN: usize = 1 << 17;

/// The rows of running executions, by execution id, as this committer last wrote them.
#[derive(Debug, Default)]
pub(crate) struct KnownRows {
    rows: HashMap<String, Known>,
}

/// A running execution's row as last written.
#[derive(Debug)]
pub(super) struct Known {
    /// Its status (running), owner and lease token.
    pub(super) locked: Locked,
    /// The id of the last event of its history.
    pub(super) last_event: u64,
    /// Its key, which its history's rows carry.
    pub(super) key: i64,
}

impl KnownRows {
    /// The known row of `execution`.
    pub(super) fn get(&self, execution: &str) -> Option<&Known> {
        self.rows.get(execution)
    }

    /// `execution` took events up to `last_event`, still running under the lease it had.
    pub(super) fn appended(&mut self, execution: &str, last_event: u64) {
        if let Some(known) = self.rows.get_mut(execution) {
            known.last_event = last_event;
        }
    }

    /// `execution`'s row, read and then written by an append that left it running.
    pub(super) fn learn(&mut self, execution: &str, known: Known) {
        if self.rows.len() >= MOST_KNOWN {
            self.rows.clear();
        }
        self.rows.insert(execution.to_owned(), known);
    }

    /// `execution`'s row changed in a way not known here, or it ended.
    pub(super) fn forget(&mut self, execution: &str) {
        self.rows.remove(execution);
    }

    /// Forgets everything: another connection wrote, or a transaction did not commit.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn clear(&mut self) {
        self.rows.clear();
    }

    /// What `write`, applied, changed of the rows known here, appends aside (which keep
    /// this up to date as they apply).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn applied(&mut self, write: &Write) {
        match write {
            // Appends are learnt as they apply; a new execution, callbacks, lease renewals
            // (their time only), definitions and requests leave owners, tokens, statuses
            // and histories as they were.
            Write::Append { .. }
            | Write::Create(_)
            | Write::CreateCallback(_)
            | Write::ChangeCallback(..)
            | Write::Renew { .. }
            | Write::SaveDefinition(_)
            | Write::Request { .. }
            | Write::TakeRequests { .. }
            | Write::FinishRequest { .. } => {}
            Write::Reopen { execution, .. } | Write::Park { execution, .. } => {
                self.forget(execution.as_str());
            }
            // Claims change owners and tokens, purges delete rows: of executions not said
            // here, so all is forgotten.
            Write::Claim(_) | Write::Purge { .. } => self.clear(),
        }
    }
}

#[cfg(test)]
#[cfg(feature = "sqlite")]
mod tests {
    use std::time::{Duration, SystemTime};

    use serde_json::Value;

    use crate::execution::ExecutionId;
    use crate::store::tests::events;
    use crate::store::{
        ClaimRequest, Created, Fence, Lease, NewExecution, SqliteStore, Store, StoreError,
    };

    const EPOCH: SystemTime = SystemTime::UNIX_EPOCH;

    /// Execution `e` of workflow `W`, leased to worker `a` (token 1) until one second after
    /// 1970, and one fenced append by `a`, which the committer learns from.
    async fn leased_and_appended(store: &SqliteStore) -> (ExecutionId, Fence) {
        let id = ExecutionId::from("e");
        let created = store
            .create(NewExecution {
                id: id.clone(),
                name: "e".to_owned(),
                workflow: "W".to_owned(),
                version: 1,
                input: Value::Null,
                fingerprint: String::new(),
                started_at: EPOCH,
                events: events(1..=1),
                lease: Some(Lease {
                    worker: "a".to_owned(),
                    token: 1,
                    until: EPOCH + Duration::from_secs(1),
                }),
            })
            .await
            .expect("created");
        assert_eq!(created, Created::New);
        let fence = Fence {
            worker: "a".to_owned(),
            token: 1,
        };
        store
            .leases()
            .append_fenced(&id, &fence, &events(2..=2), None)
            .await
            .expect("the holder appends");
        (id, fence)
    }

    fn claim_by_b() -> ClaimRequest {
        ClaimRequest::new(
            "b",
            vec!["W".to_owned()],
            EPOCH + Duration::from_secs(3_600),
            EPOCH + Duration::from_secs(10),
            10,
        )
    }

    fn lease_lost(outcome: &Result<(), StoreError>) -> bool {
        matches!(outcome, Err(StoreError::LeaseLost { .. }))
    }

    /// Another connection (another process, or another store on the file) takes the lease:
    /// what this committer knew of the row must not let the old holder append.
    #[tokio::test]
    async fn a_claim_by_another_connection_makes_the_old_holder_s_append_refused() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("known.db");
        let first = SqliteStore::open(&path).expect("opens");
        let second = SqliteStore::open(&path).expect("opens again");
        let (id, stale) = leased_and_appended(&first).await;

        let claims = second.leases().claim(claim_by_b()).await.expect("claims");
        assert_eq!(claims.len(), 1);
        let refused = first
            .leases()
            .append_fenced(&id, &stale, &events(3..=3), None)
            .await;
        assert!(lease_lost(&refused), "{refused:?}");

        let taken = Fence {
            worker: "b".to_owned(),
            token: claims[0].token,
        };
        second
            .leases()
            .append_fenced(&id, &taken, &events(3..=3), None)
            .await
            .expect("the new holder appends");
        assert_eq!(first.full_history(&id).await.expect("reads").len(), 3);
    }

    /// The same when the claim goes through this committer itself.
    #[tokio::test]
    async fn a_claim_through_the_same_committer_makes_the_old_holder_s_append_refused() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = SqliteStore::open(dir.path().join("known.db")).expect("opens");
        let (id, stale) = leased_and_appended(&store).await;

        assert_eq!(
            store
                .leases()
                .claim(claim_by_b())
                .await
                .expect("claims")
                .len(),
            1
        );
        let refused = store
            .leases()
            .append_fenced(&id, &stale, &events(3..=3), None)
            .await;
        assert!(lease_lost(&refused), "{refused:?}");
    }

    /// A parked execution has no owner until it is claimed again.
    #[tokio::test]
    async fn a_parked_execution_takes_no_append_from_its_old_holder() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = SqliteStore::open(dir.path().join("known.db")).expect("opens");
        let (id, fence) = leased_and_appended(&store).await;

        store
            .leases()
            .park(&id, &fence, EPOCH + Duration::from_secs(60))
            .await
            .expect("parks");
        let refused = store
            .leases()
            .append_fenced(&id, &fence, &events(3..=3), None)
            .await;
        assert!(lease_lost(&refused), "{refused:?}");
    }
}
