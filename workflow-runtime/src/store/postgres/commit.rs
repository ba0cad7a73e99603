//! The commit path: a batch of writes in one transaction on a connection of the writing pool,
//! its appends pipelined as one statement each; a batch whose connection breaks is applied
//! again on a new one, or, if it broke during COMMIT, looked up by its transaction id.

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
                match commit_pipelined(&mut writer, batch).await {
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

/// One append as one statement: lock the execution's row if it is running (and its lease is
/// held, when fenced) and the events follow the last stored one, insert the events and record
/// the end only then, and say whether it was so. When it was not, the write is applied again
/// on its own by the shared [`apply`], which tells why (or finds it was applied already).
/// The shared code's checks and changes, in one round trip: the statement differs from theirs
/// only in doing them at once.
const APPEND: &str = "WITH held AS (
        SELECT e.key FROM workflow_executions e
        WHERE e.id = $1 AND e.status = 'Running'
          AND ($2::TEXT IS NULL OR (e.owner = $2 AND e.lease_token = $3))
          AND COALESCE((SELECT h.last_id FROM workflow_history h WHERE h.execution_key = e.key
                        ORDER BY h.first_id DESC LIMIT 1), 0) + 1 = $4::BIGINT
        FOR UPDATE
    ), inserted AS (
        INSERT INTO workflow_history (execution_key, first_id, last_id, events)
        SELECT key, $4, $5, $6 FROM held
    ), ended AS (
        UPDATE workflow_executions
        SET status = $7, output = $8, error = $9, cause = $10, stopped_at = $11, failed_state = $12
        WHERE id = $1 AND $7::TEXT IS NOT NULL AND EXISTS (SELECT 1 FROM held)
    )
    SELECT EXISTS (SELECT 1 FROM held)";

/// Commits a batch in one transaction with its appends (the bulk of the writes) as one
/// statement each, all sent at once (pipelined on the connection) with the transaction's id:
/// a round trip for them all rather than several per write. The other writes follow one by
/// one, each in its savepoint. Every caller waits for its write before making another that
/// depends on it, so the order within a batch is free. `None` if an append failed or the
/// batch has none: the transaction is rolled back and the caller applies the batch write by
/// write, so one bad write fails alone.
async fn commit_pipelined(writer: &mut Object, batch: &[Write]) -> Option<Attempt> {
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
    let rows: Vec<AppendRow<'_>> = appends
        .iter()
        .filter_map(|(_, write)| AppendRow::of(write))
        .collect();
    let mut transaction = match writer.transaction().await {
        Ok(transaction) => transaction,
        Err(error) => return lost(error),
    };
    let queries = rows.iter().map(|row| {
        let parameters: [&(dyn ToSql + Sync); 12] = [
            &row.execution,
            &row.worker,
            &row.token,
            &row.first,
            &row.last,
            &row.events,
            &row.status,
            &row.output,
            &row.error,
            &row.cause,
            &row.stopped_at,
            &row.failed_state,
        ];
        let statement = &statement;
        let transaction = &transaction;
        async move { transaction.query_one(statement, &parameters).await }
    });
    let (txid, answers) = futures_util::future::join(
        transaction.query_one(&txid, &[]),
        futures_util::future::join_all(queries),
    )
    .await;
    let txid: i64 = match txid.and_then(|row| row.try_get(0)) {
        Ok(txid) => txid,
        Err(error) => return lost(error),
    };
    let mut outcomes: Vec<Option<Result<Written, StoreError>>> =
        batch.iter().map(|_| None).collect();
    for ((index, _), answer) in appends.iter().zip(answers) {
        let held: bool = match answer.and_then(|answer| answer.try_get(0)) {
            Ok(held) => held,
            Err(error) => return lost(error),
        };
        if !held {
            return None;
        }
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

/// The parameters of [`APPEND`] for one write.
struct AppendRow<'a> {
    execution: &'a str,
    worker: Option<&'a str>,
    token: i64,
    first: Option<i64>,
    last: Option<i64>,
    /// The events, as one JSON array.
    events: std::borrow::Cow<'a, str>,
    status: Option<&'static str>,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
    stopped_at: Option<i64>,
    failed_state: Option<&'a str>,
}

impl<'a> AppendRow<'a> {
    /// `None` for a write that is not an append.
    fn of(write: &'a Write) -> Option<AppendRow<'a>> {
        let Write::Append {
            execution,
            events,
            end,
            fence,
        } = write
        else {
            return None;
        };
        Some(AppendRow {
            execution: execution.as_str(),
            worker: fence.as_ref().map(|fence| fence.worker.as_str()),
            token: fence.as_ref().map_or(0, |fence| fence.token),
            first: events.first_id(),
            last: events.last_id(),
            events: events.json_array_from(0),
            status: end.as_ref().map(|end| status_text(end.status)),
            output: end
                .as_ref()
                .and_then(|end| end.output.as_ref().map(ToString::to_string)),
            error: end.as_ref().and_then(|end| end.error.clone()),
            cause: end.as_ref().and_then(|end| end.cause.clone()),
            stopped_at: end.as_ref().map(|end| nanos(end.stopped_at)),
            failed_state: end.as_ref().and_then(|end| end.failed_state.as_deref()),
        })
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
    let outcome = apply(&PostgresSql(&savepoint), write).await;
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
