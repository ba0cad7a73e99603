//! The commit path: a batch of writes in one transaction on a connection of the writing pool,
//! its appends as one statement; a batch whose connection breaks is applied again on a new
//! one, or, if it broke during COMMIT, looked up by its transaction id.

use std::time::Instant;

use deadpool_postgres::{Object, Transaction};
use tokio_postgres::types::ToSql;

use super::connections::{discard, Backoff, Connections};
use super::error::{database, describe, failure, Failure};
use super::sql::PostgresSql;
use crate::store::encoding::{nanos, status_text};
use crate::store::sql::{apply, Committer, Write, Written};
use crate::store::StoreError;

/// Commits the batches of the write queue.
pub(super) struct PostgresCommitter {
    pub(super) connections: Connections,
}

/// How one try at committing a batch ended.
enum Attempt {
    /// The transaction committed, or failed for a reason of its own: each write's outcome.
    Done(Vec<Result<Written, StoreError>>),
    /// The connection broke before COMMIT was sent: nothing of the batch is durable.
    Lost(String),
    /// The connection broke while COMMIT was under way: the batch is durable, with these
    /// outcomes, if and only if transaction `txid` committed.
    InDoubt {
        txid: i64,
        outcomes: Vec<Result<Written, StoreError>>,
        reason: String,
    },
}

impl Committer for PostgresCommitter {
    fn commit(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
        let connections = &self.connections;
        let deadline = connections.deadline();
        let mut backoff = Backoff::until(deadline);
        // As for reads: the first broken connection is replaced at once.
        let mut fresh_try = true;
        loop {
            let mut writer = match connections.writer(deadline) {
                Ok(writer) => writer,
                Err(error) => return every(batch, &error),
            };
            let attempt = connections.handle().block_on(async {
                match commit_appends_together(&mut writer, batch).await {
                    Some(attempt) => attempt,
                    None => commit(&mut writer, batch).await,
                }
            });
            let reason = match attempt {
                Attempt::Done(outcomes) => {
                    connections.served();
                    return outcomes;
                }
                Attempt::Lost(reason) => {
                    tracing::warn!(%reason, "the connection broke before a commit; committing again");
                    discard(writer);
                    if std::mem::take(&mut fresh_try) {
                        continue;
                    }
                    reason
                }
                Attempt::InDoubt {
                    txid,
                    outcomes,
                    reason,
                } => {
                    discard(writer);
                    connections.failed();
                    let outcome = committed(connections, txid, deadline, &reason);
                    tracing::warn!(txid, ?outcome, %reason, "the connection broke during a commit");
                    match outcome {
                        Ok(true) => return outcomes,
                        // Rolled back: the batch is applied again.
                        Ok(false) => reason,
                        Err(unknown) => return every(batch, &unknown),
                    }
                }
            };
            connections.failed();
            if !backoff.pause() {
                return every(batch, &connections.gave_up(reason));
            }
        }
    }
}

/// `error` for every write of `batch`.
fn every(batch: &[Write], error: &StoreError) -> Vec<Result<Written, StoreError>> {
    batch.iter().map(|_| Err(error.clone())).collect()
}

/// Whether transaction `txid`, whose COMMIT was under way when its connection broke,
/// committed: asked on a new connection until `deadline`. The old session may not have ended
/// yet (its server has not noticed the lost connection): then it is asked again.
fn committed(
    connections: &Connections,
    txid: i64,
    deadline: Instant,
    broke: &str,
) -> Result<bool, StoreError> {
    let unknown = |reason: &dyn std::fmt::Display| {
        StoreError::Unavailable {
        reason: format!(
            "the connection to PostgreSQL broke during a commit ({broke}) and whether it committed is not known ({reason}); the writes may or may not be durable"
        ),
    }
    };
    let mut backoff = Backoff::until(deadline);
    loop {
        let writer = connections
            .writer(deadline)
            .map_err(|error| unknown(&error))?;
        let status = connections
            .handle()
            .block_on(writer.query_one("SELECT txid_status($1)", &[&txid]))
            .and_then(|row| row.try_get::<_, Option<String>>(0));
        let reason = match status.as_ref().map(Option::as_deref) {
            Ok(Some("committed")) => {
                connections.served();
                return Ok(true);
            }
            Ok(Some("aborted")) => {
                connections.served();
                return Ok(false);
            }
            Ok(Some("in progress")) => "still in progress".to_owned(),
            Ok(other) => return Err(unknown(&format!("its status is {other:?}"))),
            Err(error) => match failure(error) {
                Failure::Genuine => return Err(unknown(&describe(error))),
                Failure::Broken | Failure::Transient => {
                    discard(writer);
                    connections.failed();
                    describe(error)
                }
            },
        };
        if !backoff.pause() {
            return Err(unknown(&reason));
        }
    }
}

/// Ends a try on `error`, before COMMIT: the connection lost, or `error` for every write.
fn before_commit(error: tokio_postgres::Error, batch: &[Write]) -> Attempt {
    match failure(&error) {
        Failure::Broken => Attempt::Lost(describe(&error)),
        Failure::Transient | Failure::Genuine => Attempt::Done(every(batch, &database(error))),
    }
}

/// Ends a try on the outcome of COMMIT.
fn after_commit(
    committed: Result<(), tokio_postgres::Error>,
    txid: i64,
    outcomes: Vec<Result<Written, StoreError>>,
) -> Attempt {
    match committed {
        Ok(()) => Attempt::Done(outcomes),
        Err(error) if failure(&error) == Failure::Broken => Attempt::InDoubt {
            txid,
            outcomes,
            reason: describe(&error),
        },
        // Nothing of the batch is durable: every write fails.
        Err(error) => {
            let error = database(error);
            Attempt::Done(outcomes.iter().map(|_| Err(error.clone())).collect())
        }
    }
}

/// The id of the transaction, asked at its start (prepared once per connection; pipelined
/// with a batch's appends): if its connection breaks during COMMIT, a new connection can ask
/// whether it committed.
const TXID: &str = "SELECT txid_current()";

/// Every append of a batch as one statement: lock the rows of the executions that are
/// running (with their lease held, when fenced) and whose events follow the last stored one,
/// insert their events and record their ends, and say how many were so. When one was not, the
/// batch is applied again write by write by the shared [`apply`], which tells why (or finds
/// it was applied already). The shared code's checks and changes, in one round trip and one
/// statement: the server's cost is mostly per statement (about 80 µs each when every append
/// was a statement of its own), so a batch of them costs little more than one. Two appends
/// to one execution in a batch cannot both hold: they would insert the same first event, and
/// the statement fails on the history's key (the batch is then applied write by write).
const APPEND: &str = "WITH input AS (
        SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[],
                             $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[],
                             $11::BIGINT[], $12::TEXT[])
            AS i (id, worker, token, first_id, last_id, events, status, output, error, cause,
                  stopped_at, failed_state)
    ), held AS (
        SELECT e.key, i.* FROM input i JOIN workflow_executions e ON e.id = i.id
        WHERE e.status = 'Running'
          AND (i.worker IS NULL OR (e.owner = i.worker AND e.lease_token = i.token))
          AND COALESCE((SELECT h.last_id FROM workflow_history h WHERE h.execution_key = e.key
                        ORDER BY h.first_id DESC LIMIT 1), 0) + 1 = i.first_id
        FOR UPDATE OF e
    ), inserted AS (
        INSERT INTO workflow_history (execution_key, first_id, last_id, events)
        SELECT key, first_id, last_id, events FROM held
    ), ended AS (
        UPDATE workflow_executions e
        SET status = h.status, output = h.output, error = h.error, cause = h.cause,
            stopped_at = h.stopped_at, failed_state = h.failed_state
        FROM held h WHERE e.key = h.key AND h.status IS NOT NULL
    )
    SELECT COUNT(*) FROM held";

/// Commits a batch in one transaction with its appends (the bulk of the writes) as one
/// statement, sent together with the query of the transaction's id: a round trip for them
/// all. The other writes follow one by one, each in its savepoint. Every caller waits for its
/// write before making another that depends on it, so the order within a batch is free.
/// `None` if an append failed or the batch has none: the transaction is rolled back and the
/// caller applies the batch write by write, so one bad write fails alone.
async fn commit_appends_together(writer: &mut Object, batch: &[Write]) -> Option<Attempt> {
    let (appends, others): (Vec<_>, Vec<_>) = batch
        .iter()
        .enumerate()
        .partition(|(_, write)| matches!(write, Write::Append { .. }));
    if appends.is_empty() {
        return None;
    }
    // A connection lost is a lost try; any other error leaves the batch to `commit`.
    let lost = |error: tokio_postgres::Error| match failure(&error) {
        Failure::Broken => Some(Attempt::Lost(describe(&error))),
        Failure::Transient | Failure::Genuine => None,
    };
    let (statement, txid) = match futures_util::future::try_join(
        writer.prepare_cached(APPEND),
        writer.prepare_cached(TXID),
    )
    .await
    {
        Ok(statements) => statements,
        Err(error) => return lost(error),
    };
    let columns = AppendColumns::of(appends.iter().map(|(_, write)| *write));
    let mut transaction = match writer.transaction().await {
        Ok(transaction) => transaction,
        Err(error) => return lost(error),
    };
    let (txid, held) = futures_util::future::join(
        transaction.query_one(&txid, &[]),
        transaction.query_one(&statement, &columns.parameters()),
    )
    .await;
    let txid: i64 = match txid.and_then(|row| row.try_get(0)) {
        Ok(txid) => txid,
        Err(error) => return lost(error),
    };
    let held: i64 = match held.and_then(|row| row.try_get(0)) {
        Ok(held) => held,
        Err(error) => return lost(error),
    };
    if usize::try_from(held).ok() != Some(appends.len()) {
        return None;
    }
    let mut outcomes: Vec<Option<Result<Written, StoreError>>> =
        batch.iter().map(|_| None).collect();
    for (index, _) in &appends {
        outcomes[*index] = Some(Ok(Written::Done));
    }
    for (index, write) in others {
        outcomes[index] = Some(apply_in_savepoint(&mut transaction, write).await);
    }
    let outcomes = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| Err(StoreError::failed("a write was skipped"))))
        .collect();
    Some(after_commit(transaction.commit().await, txid, outcomes))
}

/// The parameters of [`APPEND`]: one array per column, an element per append.
#[derive(Default)]
struct AppendColumns<'a> {
    execution: Vec<&'a str>,
    worker: Vec<Option<&'a str>>,
    token: Vec<i64>,
    first: Vec<Option<i64>>,
    last: Vec<Option<i64>>,
    /// The events of each append, as one JSON array.
    events: Vec<std::borrow::Cow<'a, str>>,
    status: Vec<Option<&'static str>>,
    output: Vec<Option<String>>,
    error: Vec<Option<&'a str>>,
    cause: Vec<Option<&'a str>>,
    stopped_at: Vec<Option<i64>>,
    failed_state: Vec<Option<&'a str>>,
}

impl<'a> AppendColumns<'a> {
    /// The columns of `appends` (writes that are not appends are left out).
    fn of(appends: impl Iterator<Item = &'a Write>) -> Self {
        let mut columns = AppendColumns::default();
        for write in appends {
            let Write::Append {
                execution,
                events,
                end,
                fence,
            } = write
            else {
                continue;
            };
            let end = end.as_ref();
            columns.execution.push(execution.as_str());
            columns
                .worker
                .push(fence.as_ref().map(|fence| fence.worker.as_str()));
            columns
                .token
                .push(fence.as_ref().map_or(0, |fence| fence.token));
            columns.first.push(events.first_id());
            columns.last.push(events.last_id());
            columns.events.push(events.json_array_from(0));
            columns.status.push(end.map(|end| status_text(end.status)));
            columns.output.push(
                end.and_then(|end| end.output.as_ref())
                    .map(ToString::to_string),
            );
            columns.error.push(end.and_then(|end| end.error.as_deref()));
            columns.cause.push(end.and_then(|end| end.cause.as_deref()));
            columns
                .stopped_at
                .push(end.map(|end| nanos(end.stopped_at)));
            columns
                .failed_state
                .push(end.and_then(|end| end.failed_state.as_deref()));
        }
        columns
    }

    fn parameters(&self) -> [&(dyn ToSql + Sync); 12] {
        [
            &self.execution,
            &self.worker,
            &self.token,
            &self.first,
            &self.last,
            &self.events,
            &self.status,
            &self.output,
            &self.error,
            &self.cause,
            &self.stopped_at,
            &self.failed_state,
        ]
    }
}

/// Commits a batch write by write, each in its savepoint.
async fn commit(writer: &mut Object, batch: &[Write]) -> Attempt {
    let txid = match writer.prepare_cached(TXID).await {
        Ok(txid) => txid,
        Err(error) => return before_commit(error, batch),
    };
    let mut transaction = match writer.transaction().await {
        Ok(transaction) => transaction,
        Err(error) => return before_commit(error, batch),
    };
    let txid = transaction
        .query_one(&txid, &[])
        .await
        .and_then(|row| row.try_get(0));
    let txid: i64 = match txid {
        Ok(txid) => txid,
        Err(error) => return before_commit(error, batch),
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for write in batch {
        outcomes.push(apply_in_savepoint(&mut transaction, write).await);
    }
    after_commit(transaction.commit().await, txid, outcomes)
}

/// Applies `write` in a savepoint of `transaction`: if it fails, it alone is undone.
async fn apply_in_savepoint(
    transaction: &mut Transaction<'_>,
    write: &Write,
) -> Result<Written, StoreError> {
    let savepoint = transaction.savepoint("write").await.map_err(database)?;
    // Never `KnownRows`: other processes write the same rows at any time.
    let outcome = apply(&PostgresSql(&savepoint), write, None).await;
    let finished = match &outcome {
        Ok(_) => savepoint.commit().await,
        Err(_) => savepoint.rollback().await,
    };
    finished.map_err(database).and(outcome)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_postgres::{Client, Config, NoTls};

    use super::super::PostgresStore;
    use super::*;

    /// A store on the server of `WORKFLOW_TEST_POSTGRES_URL`, waiting `wait` for it, and a
    /// connection of its own; `None` (said on stderr) without a server.
    async fn server(wait: Duration) -> Option<(PostgresStore, Client)> {
        let Ok(url) = std::env::var("WORKFLOW_TEST_POSTGRES_URL") else {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"postgres: skipped (set WORKFLOW_TEST_POSTGRES_URL to run these tests on PostgreSQL)\n",
            );
            return None;
        };
        let store = PostgresStore::builder(&url)
            .schema(&format!("test_txid_{}", fastrand::u32(..)))
            .connection_wait(wait)
            .connect()
            .await
            .expect("connects");
        let config: Config = url.parse().expect("a URL");
        let (client, connection) = config.connect(NoTls).await.expect("connects");
        tokio::spawn(connection);
        Some((store, client))
    }

    /// Whether `txid` committed, as a commit whose connection broke asks it.
    async fn ask(store: &PostgresStore, txid: i64) -> Result<bool, StoreError> {
        let connections = store.driver().connections.clone();
        tokio::task::spawn_blocking(move || {
            committed(
                &connections,
                txid,
                connections.deadline(),
                "connection closed",
            )
        })
        .await
        .expect("asks")
    }

    async fn txid(client: &Client) -> i64 {
        client
            .query_one("SELECT txid_current()", &[])
            .await
            .and_then(|row| row.try_get(0))
            .expect("a txid")
    }

    /// A call waiting for a connection when the store's runtime shuts down (a blocking
    /// thread finishing its work while the process ends) is told the store is closed; the
    /// pool's timer, whose driver is gone, makes nothing panic.
    #[test]
    fn a_call_waiting_for_a_connection_when_the_runtime_shuts_down_is_refused_as_closed() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let Some((store, _client)) = runtime.block_on(server(Duration::from_secs(30))) else {
            return;
        };
        let connections = store.driver().connections.clone();
        // The only committing connection is taken: the next call waits for it.
        let taken = connections
            .writer(connections.deadline())
            .expect("the writer");
        let waiting = std::thread::spawn({
            let connections = connections.clone();
            move || connections.writer(connections.deadline()).map(|_| ())
        });
        std::thread::sleep(Duration::from_millis(300));
        runtime.shutdown_timeout(Duration::from_secs(1));
        let asked = waiting.join();
        drop(taken);
        assert!(matches!(asked, Ok(Err(StoreError::Closed))), "{asked:?}");
    }

    /// A commit in doubt is resolved by the transaction's id: committed, rolled back, or (its
    /// session still open past the wait) not known, which is a transient error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_in_doubt_is_looked_up_by_its_transaction_id() {
        let Some((store, client)) = server(Duration::from_millis(500)).await else {
            return;
        };
        client.batch_execute("BEGIN").await.expect("begins");
        let done = txid(&client).await;
        client.batch_execute("COMMIT").await.expect("commits");
        assert_eq!(ask(&store, done).await, Ok(true));

        client.batch_execute("BEGIN").await.expect("begins");
        let undone = txid(&client).await;
        client.batch_execute("ROLLBACK").await.expect("rolls back");
        assert_eq!(ask(&store, undone).await, Ok(false));

        client.batch_execute("BEGIN").await.expect("begins");
        let open = txid(&client).await;
        let started = Instant::now();
        let error = ask(&store, open).await.expect_err("still in progress");
        assert!(error.is_transient(), "{error}");
        assert!(error.to_string().contains("not known"), "{error}");
        assert!(started.elapsed() >= Duration::from_millis(400));
        client.batch_execute("ROLLBACK").await.expect("rolls back");
    }
}
