//! The PostgreSQL store (feature `postgres`): the same tables as the SQLite store, in one
//! database that several worker processes can share.
//!
//! Writes go through the same group-commit queue as SQLite's (one transaction per batch, a
//! savepoint per write) on one connection; reads use a second. Both run on tokio's blocking
//! pool, driving the query there, so a paused tokio clock (virtual time in tests) sees the
//! work in flight and does not jump ahead of a pending query.

mod schema;

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement, Transaction};

use super::encoding::{
    check_same_events, definition_text, nanos, not_redrivable, not_running, redrivable,
    status_text, stored_overlap, CallbackColumns, DefinitionColumns, ExecutionColumns,
};
use super::queue::{queued_writes, Committer, EncodedEvents, Write, WriteQueue, Written};
use super::{
    CallbackChange, CallbackRecord, CallbackUpdate, Claim, Created, ExecutionFilter,
    ExecutionRecord, Fence, NewCallback, Store, StoreError, StoreFuture, StoredDefinition,
};
use super::{ExecutionRequest, RequestKind, RequestStatus};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::history::Event;

/// A store error saying what failed, with its causes: a database error's own message (the
/// client's error alone says only "db error").
pub(super) fn database(error: impl std::error::Error) -> StoreError {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    StoreError::Database(message)
}

/// Executions and histories in a PostgreSQL database, shared by every worker that connects.
///
/// ```no_run
/// # async fn open() -> Result<(), workflow::store::StoreError> {
/// let store = workflow::store::PostgresStore::connect("postgres://app@db.internal/workflows").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where it connects, for `Debug` (never the password).
    target: String,
    writes: WriteQueue,
    reader: Arc<Client>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.inner.target)
            .finish()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/database`) and brings its
    /// schema up to date. Must be called within a tokio runtime.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::open(url, None).await
    }

    /// Like [`connect`](Self::connect), keeping the tables in the PostgreSQL schema `schema`
    /// (created if needed): several independent stores in one database, e.g. one per test.
    /// `schema` is lowercase letters, digits and `_`, starting with a letter.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let valid = schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase())
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::Database(format!(
                "`{schema}` cannot name a schema: use lowercase letters, digits and `_`, starting with a letter"
            )));
        }
        Self::open(url, Some(schema)).await
    }

    async fn open(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let config: Config = url
            .parse()
            .map_err(|error| StoreError::Database(format!("`{}`: {error}", redacted(url))))?;
        let mut writer = connect(&config).await?;
        let reader = connect(&config).await?;
        if let Some(schema) = schema {
            for client in [&writer, &reader] {
                client
                    .batch_execute(&format!("SET search_path TO {schema}"))
                    .await
                    .map_err(database)?;
            }
        }
        // The schema is created by the migration, under its lock: processes starting together
        // would otherwise race to create it.
        schema::migrate(&mut writer, schema).await?;
        let handle = Handle::current();
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                target: redacted(url),
                writes: WriteQueue::new(PostgresCommitter {
                    client: writer,
                    handle,
                    append: None,
                }),
                reader: Arc::new(reader),
            }),
        })
    }

    /// Runs a read on the reading connection, driven on the blocking pool.
    fn read<T, F>(&self, read: impl FnOnce(Arc<Client>) -> F + Send + 'static) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let reader = Arc::clone(&self.inner.reader);
        Box::pin(async move {
            let handle = Handle::current();
            tokio::task::spawn_blocking(move || handle.block_on(read(reader)))
                .await
                .map_err(database)?
        })
    }
}

/// `url` without its password.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// A connection, its I/O driven by a task of its own.
async fn connect(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(database)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "the connection to PostgreSQL ended");
        }
    });
    Ok(client)
}

/// The writing connection.
struct PostgresCommitter {
    client: Client,
    handle: Handle,
    /// [`APPEND`], once prepared on this connection.
    append: Option<Statement>,
}

impl Committer for PostgresCommitter {
    fn commit(&mut self, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
        let handle = self.handle.clone();
        handle.block_on(async {
            match self.commit_pipelined(batch).await {
                Some(outcomes) => outcomes,
                None => commit(&mut self.client, batch).await,
            }
        })
    }
}

/// One append as one statement: lock the execution's row if it is running (and its lease is
/// held, when fenced) and the events follow the last stored one, insert the events and record
/// the end only then, and say whether it was so. When it was not, the write is applied again
/// on its own by [`apply`], which tells why (or finds it was applied already).
const APPEND: &str = "WITH held AS (
        SELECT id FROM workflow_executions
        WHERE id = $1 AND status = 'Running'
          AND ($2::TEXT IS NULL OR (owner = $2 AND lease_token = $3))
          AND (SELECT COALESCE(MAX(id), 0) + 1 FROM workflow_events WHERE execution_id = $1)
              = ($4::BIGINT[])[1]
        FOR UPDATE
    ), inserted AS (
        INSERT INTO workflow_events (execution_id, id, event)
        SELECT $1, e.id, e.event FROM UNNEST($4::BIGINT[], $5::TEXT[]) AS e(id, event)
        WHERE EXISTS (SELECT 1 FROM held)
    ), ended AS (
        UPDATE workflow_executions
        SET status = $6, output = $7, error = $8, cause = $9, stopped_at = $10
        WHERE id = $1 AND $6::TEXT IS NOT NULL AND EXISTS (SELECT 1 FROM held)
    )
    SELECT EXISTS (SELECT 1 FROM held)";

impl PostgresCommitter {
    /// Commits a batch in one transaction with its appends (the bulk of the writes) as one
    /// statement each, all sent at once (pipelined on the connection): a round trip for them
    /// all rather than several per write. The other writes follow one by one, each in its
    /// savepoint. Every caller waits for its write before making another that depends on it,
    /// so the order within a batch is free. `None` if an append failed or the batch has none:
    /// the transaction is rolled back and the caller applies the batch write by write, so
    /// one bad write fails alone.
    async fn commit_pipelined(
        &mut self,
        batch: &[Write],
    ) -> Option<Vec<Result<Written, StoreError>>> {
        let (appends, others): (Vec<_>, Vec<_>) = batch
            .iter()
            .enumerate()
            .partition(|(_, write)| matches!(write, Write::Append { .. }));
        if appends.is_empty() {
            return None;
        }
        if self.append.is_none() {
            self.append = Some(self.client.prepare(APPEND).await.ok()?);
        }
        let statement = self.append.clone()?;
        let rows: Vec<AppendRow<'_>> = appends
            .iter()
            .filter_map(|(_, write)| AppendRow::of(write))
            .collect();
        let mut transaction = self.client.transaction().await.ok()?;
        let queries = rows.iter().map(|row| {
            let parameters: [&(dyn ToSql + Sync); 10] = [
                &row.execution,
                &row.worker,
                &row.token,
                &row.ids,
                &row.events,
                &row.status,
                &row.output,
                &row.error,
                &row.cause,
                &row.stopped_at,
            ];
            let statement = &statement;
            let transaction = &transaction;
            async move { transaction.query_one(statement, &parameters).await }
        });
        let answers = futures_util::future::join_all(queries).await;
        let mut outcomes: Vec<Option<Result<Written, StoreError>>> =
            batch.iter().map(|_| None).collect();
        for ((index, _), answer) in appends.iter().zip(answers) {
            let held: bool = answer.ok()?.try_get(0).ok()?;
            if !held {
                return None;
            }
            outcomes[*index] = Some(Ok(Written::Done));
        }
        for (index, write) in others {
            outcomes[index] = Some(apply_in_savepoint(&mut transaction, write).await);
        }
        let outcomes = outcomes.into_iter().map(|outcome| {
            outcome.unwrap_or_else(|| Err(StoreError::Database("a write was skipped".into())))
        });
        match transaction.commit().await {
            Ok(()) => Some(outcomes.collect()),
            // Nothing of the batch is durable: every write fails.
            Err(error) => Some(batch.iter().map(|_| Err(database(&error))).collect()),
        }
    }
}

/// The parameters of [`APPEND`] for one write.
struct AppendRow<'a> {
    execution: String,
    worker: Option<String>,
    token: i64,
    ids: &'a [i64],
    events: &'a [String],
    status: Option<&'static str>,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
    stopped_at: Option<i64>,
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
            execution: execution.as_str().to_owned(),
            worker: fence.as_ref().map(|fence| fence.worker.clone()),
            token: fence.as_ref().map_or(0, |fence| fence.token),
            ids: &events.ids,
            events: &events.texts,
            status: end.as_ref().map(|end| status_text(end.status)),
            output: end
                .as_ref()
                .and_then(|end| end.output.as_ref().map(ToString::to_string)),
            error: end.as_ref().and_then(|end| end.error.clone()),
            cause: end.as_ref().and_then(|end| end.cause.clone()),
            stopped_at: end.as_ref().map(|end| nanos(end.stopped_at)),
        })
    }
}

async fn commit(client: &mut Client, batch: &[Write]) -> Vec<Result<Written, StoreError>> {
    let mut transaction = match client.transaction().await {
        Ok(transaction) => transaction,
        Err(error) => return batch.iter().map(|_| Err(database(&error))).collect(),
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for write in batch {
        outcomes.push(apply_in_savepoint(&mut transaction, write).await);
    }
    match transaction.commit().await {
        Ok(()) => outcomes,
        // Nothing of the batch is durable: every write fails.
        Err(error) => outcomes.iter().map(|_| Err(database(&error))).collect(),
    }
}

/// Applies `write` in a savepoint of `transaction`: if it fails, it alone is undone.
async fn apply_in_savepoint(
    transaction: &mut Transaction<'_>,
    write: &Write,
) -> Result<Written, StoreError> {
    let savepoint = transaction.savepoint("write").await.map_err(database)?;
    let outcome = apply(&savepoint, write).await;
    let finished = match &outcome {
        Ok(_) => savepoint.commit().await,
        Err(_) => savepoint.rollback().await,
    };
    finished.map_err(database).and(outcome)
}

const SELECT_EXECUTION: &str = "SELECT id, name, workflow, status, input, output, error, cause, started_at, stopped_at, fingerprint FROM workflow_executions";

const SELECT_CALLBACK: &str = "SELECT token_hash, execution_id, workflow, state, event_id, status, output, error, cause, heartbeat_at, created_at FROM workflow_callbacks";

async fn apply(transaction: &Transaction<'_>, write: &Write) -> Result<Written, StoreError> {
    match write {
        Write::Create(execution) => {
            let lease = execution.lease.as_ref();
            let inserted = transaction
                .execute(
                    "INSERT INTO workflow_executions (id, name, workflow, fingerprint, status, input, started_at, owner, lease_token, lease_until)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (workflow, name) DO NOTHING",
                    &[
                        &execution.id.as_str(),
                        &execution.name,
                        &execution.workflow,
                        &execution.fingerprint,
                        &status_text(ExecutionStatus::Running),
                        &execution.input.to_string(),
                        &nanos(execution.started_at),
                        &lease.map(|lease| lease.worker.clone()),
                        &lease.map_or(0, |lease| lease.token),
                        &lease.map(|lease| nanos(lease.until)),
                    ],
                )
                .await
                .map_err(database)?;
            if inserted == 0 {
                let existing = transaction
                    .query_one(
                        &format!("{SELECT_EXECUTION} WHERE workflow = $1 AND name = $2"),
                        &[&execution.workflow, &execution.name],
                    )
                    .await
                    .map_err(database)?;
                return Ok(Written::Created(Created::Existing(Box::new(record(
                    &existing,
                )?))));
            }
            insert_events(
                transaction,
                &execution.id,
                &EncodedEvents::encode(&execution.events)?,
            )
            .await?;
            Ok(Written::Created(Created::New))
        }
        Write::Append {
            execution,
            events,
            end,
            fence,
        } => {
            // Locks the row first (with the lease check, or on its own): nothing changes the
            // execution between the checks and the writes.
            let status = lock_status(transaction, execution).await?;
            if insert_events(transaction, execution, events).await? == Inserted::AlreadyStored {
                // An earlier try of this write committed; its answer was lost.
                return Ok(Written::Done);
            }
            match fence {
                Some(fence) => check_fence(transaction, execution, fence).await?,
                None if status.as_deref() == Some(status_text(ExecutionStatus::Running)) => {}
                None => return Err(not_running(execution.as_str(), status.as_deref())),
            }
            if let Some(end) = end {
                transaction
                    .execute(
                        "UPDATE workflow_executions SET status = $2, output = $3, error = $4, cause = $5, stopped_at = $6
                         WHERE id = $1",
                        &[
                            &execution.as_str(),
                            &status_text(end.status),
                            &end.output.as_ref().map(ToString::to_string),
                            &end.error,
                            &end.cause,
                            &nanos(end.stopped_at),
                        ],
                    )
                    .await
                    .map_err(database)?;
            }
            Ok(Written::Done)
        }
        Write::Reopen { execution, events } => {
            let status = lock_status(transaction, execution).await?;
            if insert_events(transaction, execution, events).await? == Inserted::AlreadyStored {
                // An earlier try of this write committed; its answer was lost.
                return Ok(Written::Done);
            }
            if !status.as_deref().is_some_and(redrivable) {
                return Err(not_redrivable(execution.as_str(), status.as_deref()));
            }
            transaction
                .execute(
                    "UPDATE workflow_executions SET status = $2, output = NULL, error = NULL, cause = NULL, stopped_at = NULL, owner = NULL, lease_until = NULL
                     WHERE id = $1",
                    &[&execution.as_str(), &status_text(ExecutionStatus::Running)],
                )
                .await
                .map_err(database)?;
            Ok(Written::Done)
        }
        Write::Purge { before, limit } => {
            transaction
                .execute(
                    "DELETE FROM workflow_callbacks WHERE status <> 'pending' AND created_at < $1",
                    &[&nanos(*before)],
                )
                .await
                .map_err(database)?;
            let deleted = transaction
                .execute(
                    "DELETE FROM workflow_executions WHERE id IN (
                         SELECT id FROM workflow_executions WHERE status <> $1 AND stopped_at < $2 LIMIT $3
                     )",
                    &[
                        &status_text(ExecutionStatus::Running),
                        &nanos(*before),
                        // LIMIT NULL: no limit.
                        &limit.map(|limit| i64::try_from(limit).unwrap_or(i64::MAX)),
                    ],
                )
                .await
                .map_err(database)?;
            Ok(Written::Purged(
                usize::try_from(deleted).unwrap_or(usize::MAX),
            ))
        }
        Write::CreateCallback(callback) => {
            create_callback(transaction, callback).await?;
            Ok(Written::Done)
        }
        Write::ChangeCallback(hash, change) => Ok(Written::Callback(
            change_callback(transaction, hash, change).await?,
        )),
        Write::Claim(request) => {
            let skip: Vec<&str> = request.skip.iter().map(ExecutionId::as_str).collect();
            let only: Option<Vec<&str>> = request
                .only
                .as_ref()
                .map(|only| only.iter().map(ExecutionId::as_str).collect());
            // SKIP LOCKED: workers claiming at once each get different executions.
            let rows = transaction
                .query(
                    "UPDATE workflow_executions SET owner = $1, lease_token = lease_token + 1, lease_until = $2
                     WHERE id IN (
                         SELECT id FROM workflow_executions
                         WHERE status = $3 AND workflow = ANY($6)
                           AND NOT (id = ANY($7))
                           AND ($8::TEXT[] IS NULL OR id = ANY($8))
                           AND (lease_until IS NULL OR lease_until <= $4 OR owner = ANY($9)
                                OR ($10 AND owner IS NULL))
                         ORDER BY started_at LIMIT $5
                         FOR UPDATE SKIP LOCKED)
                     RETURNING id, workflow, lease_token",
                    &[
                        &request.worker,
                        &nanos(request.until),
                        &status_text(ExecutionStatus::Running),
                        &nanos(request.now),
                        &i64::try_from(request.limit).unwrap_or(i64::MAX),
                        &request.workflows,
                        &skip,
                        &only,
                        &request.gone,
                        &request.early,
                    ],
                )
                .await
                .map_err(database)?;
            let claims = rows
                .iter()
                .map(|row| {
                    Ok(Claim {
                        id: ExecutionId::from(row.try_get::<_, &str>(0).map_err(database)?),
                        workflow: row.try_get(1).map_err(database)?,
                        token: row.try_get(2).map_err(database)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Written::Claimed(claims))
        }
        Write::Renew {
            worker,
            executions,
            until,
        } => {
            let ids: Vec<&str> = executions.iter().map(ExecutionId::as_str).collect();
            let rows = transaction
                .query(
                    "UPDATE workflow_executions SET lease_until = $2
                     WHERE owner = $1 AND status = $3 AND id = ANY($4)
                     RETURNING id",
                    &[
                        worker,
                        &nanos(*until),
                        &status_text(ExecutionStatus::Running),
                        &ids,
                    ],
                )
                .await
                .map_err(database)?;
            let held = rows
                .iter()
                .map(|row| {
                    row.try_get::<_, &str>(0)
                        .map(ExecutionId::from)
                        .map_err(database)
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Written::Renewed(held))
        }
        Write::Request {
            execution,
            workflow,
            kind,
            at,
        } => {
            let (error, cause) = kind.error_and_cause();
            let row = transaction
                .query_one(
                    "INSERT INTO workflow_requests (execution_id, workflow, kind, error, cause, requested_at, status)
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending') RETURNING id",
                    &[&execution.as_str(), workflow, &kind.text(), &error, &cause, &nanos(*at)],
                )
                .await
                .map_err(database)?;
            Ok(Written::Requested(row.try_get(0).map_err(database)?))
        }
        Write::TakeRequests { workflows, limit } => {
            let rows = transaction
                .query(
                    &format!(
                        "UPDATE workflow_requests SET status = 'taken' WHERE id IN (
                             SELECT id FROM workflow_requests
                             WHERE status = 'pending' AND workflow = ANY($1)
                             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
                         )
                         RETURNING {REQUEST_COLUMNS}"
                    ),
                    &[workflows, &i64::try_from(*limit).unwrap_or(i64::MAX)],
                )
                .await
                .map_err(database)?;
            let mut requests = rows
                .iter()
                .map(read_request)
                .collect::<Result<Vec<_>, _>>()?;
            requests.sort_by_key(|request| request.id);
            Ok(Written::Requests(requests))
        }
        Write::FinishRequest { id, outcome } => {
            let (status, text) = RequestStatus::finished_columns(outcome);
            transaction
                .execute(
                    "UPDATE workflow_requests SET status = $2, outcome = $3 WHERE id = $1",
                    &[id, &status, &text],
                )
                .await
                .map_err(database)?;
            Ok(Written::Done)
        }
        Write::SaveDefinition(definition) => {
            transaction
                .execute(
                    "INSERT INTO workflow_definitions (workflow, fingerprint, definition, registered_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (workflow, fingerprint) DO UPDATE SET registered_at = EXCLUDED.registered_at",
                    &[
                        &definition.workflow,
                        &definition.fingerprint,
                        &definition_text(definition)?,
                        &nanos(definition.registered_at),
                    ],
                )
                .await
                .map_err(database)?;
            Ok(Written::Done)
        }
        Write::Park {
            execution,
            fence,
            wake_at,
        } => {
            check_fence(transaction, execution, fence).await?;
            transaction
                .execute(
                    "UPDATE workflow_executions SET owner = NULL, lease_until = $2 WHERE id = $1",
                    &[&execution.as_str(), &nanos(*wake_at)],
                )
                .await
                .map_err(database)?;
            Ok(Written::Done)
        }
    }
}

const REQUEST_COLUMNS: &str =
    "id, execution_id, workflow, kind, error, cause, requested_at, status, outcome";

fn read_request(row: &Row) -> Result<ExecutionRequest, StoreError> {
    let kind: String = row.try_get(3).map_err(database)?;
    let status: String = row.try_get(7).map_err(database)?;
    Ok(ExecutionRequest {
        id: row.try_get(0).map_err(database)?,
        execution: ExecutionId::from(row.try_get::<_, &str>(1).map_err(database)?),
        workflow: row.try_get(2).map_err(database)?,
        kind: RequestKind::from_columns(
            &kind,
            row.try_get(4).map_err(database)?,
            row.try_get(5).map_err(database)?,
        ),
        requested_at: super::encoding::time(row.try_get(6).map_err(database)?),
        status: RequestStatus::from_columns(&status, row.try_get(8).map_err(database)?),
    })
}

fn definition_columns(row: &Row) -> Result<DefinitionColumns, StoreError> {
    Ok(DefinitionColumns {
        workflow: row.try_get(0).map_err(database)?,
        fingerprint: row.try_get(1).map_err(database)?,
        definition: row.try_get(2).map_err(database)?,
        registered_at: row.try_get(3).map_err(database)?,
    })
}

/// Fails with [`StoreError::LeaseLost`] unless `fence` holds the lease of the execution and it
/// is still running (one stopped by another runtime takes no more events from its worker); the row
/// stays locked until the transaction ends, so no claim slips in between.
async fn check_fence(
    transaction: &Transaction<'_>,
    execution: &ExecutionId,
    fence: &Fence,
) -> Result<(), StoreError> {
    let row = transaction
        .query_opt(
            "SELECT owner, lease_token FROM workflow_executions WHERE id = $1 AND status = $2 FOR UPDATE",
            &[&execution.as_str(), &status_text(ExecutionStatus::Running)],
        )
        .await
        .map_err(database)?;
    let holder = row
        .map(|row| -> Result<(Option<String>, i64), StoreError> {
            Ok((
                row.try_get(0).map_err(database)?,
                row.try_get(1).map_err(database)?,
            ))
        })
        .transpose()?;
    match holder {
        Some((Some(owner), token)) if owner == fence.worker && token == fence.token => Ok(()),
        _ => Err(StoreError::LeaseLost {
            execution: execution.to_string(),
        }),
    }
}

/// What [`insert_events`] did.
#[derive(Debug, PartialEq, Eq)]
enum Inserted {
    /// There were no events.
    Nothing,
    /// It stored the events (those not stored already).
    Stored,
    /// Every event was stored already, exactly so.
    AlreadyStored,
}

/// Appends events to a history, which has no gaps and no overlaps: events that do not follow
/// the last stored one are a conflict (two runtimes appending to one execution cannot both
/// succeed). Events stored already are skipped if they are stored exactly so (a write tried
/// again after its answer was lost), and a conflict otherwise. The caller holds the
/// execution's row lock.
async fn insert_events(
    transaction: &Transaction<'_>,
    execution: &ExecutionId,
    events: &EncodedEvents,
) -> Result<Inserted, StoreError> {
    let (Some(&first), Some(&last)) = (events.ids.first(), events.ids.last()) else {
        return Ok(Inserted::Nothing);
    };
    let stored_last: i64 = transaction
        .query_one(
            "SELECT COALESCE(MAX(id), 0) FROM workflow_events WHERE execution_id = $1",
            &[&execution.as_str()],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(database)?;
    let (first, last) = (first.max(0) as u64, last.max(0) as u64);
    let overlap = stored_overlap(execution.as_str(), first, last, stored_last.max(0) as u64)?;
    let skip = usize::try_from(overlap)
        .unwrap_or(usize::MAX)
        .min(events.ids.len());
    if skip > 0 {
        let rows = transaction
            .query(
                "SELECT event FROM workflow_events WHERE execution_id = $1 AND id BETWEEN $2 AND $3 ORDER BY id",
                &[&execution.as_str(), &(first as i64), &((first + overlap - 1) as i64)],
            )
            .await
            .map_err(database)?;
        let stored = rows
            .iter()
            .map(|row| {
                let text: &str = row.try_get(0).map_err(database)?;
                serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
                    execution: execution.to_string(),
                    reason: format!("an event does not parse: {error}"),
                })
            })
            .collect::<Result<Vec<serde_json::Value>, StoreError>>()?;
        check_same_events(execution.as_str(), &stored, &events.texts[..skip])?;
        if skip == events.ids.len() {
            return Ok(Inserted::AlreadyStored);
        }
    }
    transaction
        .execute(
            "INSERT INTO workflow_events (execution_id, id, event)
             SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TEXT[])",
            &[
                &execution.as_str(),
                &&events.ids[skip..],
                &&events.texts[skip..],
            ],
        )
        .await
        .map_err(database)?;
    Ok(Inserted::Stored)
}

/// Locks an execution's row until the transaction ends, and returns its status (`None`: no
/// such execution).
async fn lock_status(
    transaction: &Transaction<'_>,
    execution: &ExecutionId,
) -> Result<Option<String>, StoreError> {
    transaction
        .query_opt(
            "SELECT status FROM workflow_executions WHERE id = $1 FOR UPDATE",
            &[&execution.as_str()],
        )
        .await
        .map_err(database)?
        .map(|row| row.try_get(0).map_err(database))
        .transpose()
}

async fn create_callback(
    transaction: &Transaction<'_>,
    callback: &NewCallback,
) -> Result<(), StoreError> {
    transaction
        .execute(
            "INSERT INTO workflow_callbacks (token_hash, execution_id, workflow, state, event_id, status, created_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
            &[
                &callback.token_hash,
                &callback.execution.as_str(),
                &callback.workflow,
                &callback.state,
                &(callback.event_id as i64),
                &nanos(callback.created_at),
            ],
        )
        .await
        .map(|_| ())
        .map_err(database)
}

/// Applies `change` to a pending callback, its row locked against other workers meanwhile.
async fn change_callback(
    transaction: &Transaction<'_>,
    token_hash: &str,
    change: &CallbackChange,
) -> Result<CallbackUpdate, StoreError> {
    let row = transaction
        .query_opt(
            &format!("{SELECT_CALLBACK} WHERE token_hash = $1 FOR UPDATE"),
            &[&token_hash],
        )
        .await
        .map_err(database)?;
    let Some(row) = row else {
        return Ok(CallbackUpdate::Unknown);
    };
    let mut record = callback(&row)?;
    let update = record.apply(change);
    if matches!(update, CallbackUpdate::Applied(_)) {
        transaction
            .execute(
                "UPDATE workflow_callbacks SET status = $2, output = $3, error = $4, cause = $5, heartbeat_at = $6
                 WHERE token_hash = $1",
                &[
                    &token_hash,
                    &record.status.as_str(),
                    &record.output.as_ref().map(ToString::to_string),
                    &record.error,
                    &record.cause,
                    &record.heartbeat_at.map(nanos),
                ],
            )
            .await
            .map_err(database)?;
    }
    Ok(update)
}

fn record(row: &Row) -> Result<ExecutionRecord, StoreError> {
    let columns = ExecutionColumns {
        id: row.try_get(0).map_err(database)?,
        name: row.try_get(1).map_err(database)?,
        workflow: row.try_get(2).map_err(database)?,
        status: row.try_get(3).map_err(database)?,
        input: row.try_get(4).map_err(database)?,
        output: row.try_get(5).map_err(database)?,
        error: row.try_get(6).map_err(database)?,
        cause: row.try_get(7).map_err(database)?,
        started_at: row.try_get(8).map_err(database)?,
        stopped_at: row.try_get(9).map_err(database)?,
        fingerprint: row.try_get(10).map_err(database)?,
    };
    columns.into_record()
}

fn callback(row: &Row) -> Result<CallbackRecord, StoreError> {
    let columns = CallbackColumns {
        token_hash: row.try_get(0).map_err(database)?,
        execution: row.try_get(1).map_err(database)?,
        workflow: row.try_get(2).map_err(database)?,
        state: row.try_get(3).map_err(database)?,
        event_id: row.try_get(4).map_err(database)?,
        status: row.try_get(5).map_err(database)?,
        output: row.try_get(6).map_err(database)?,
        error: row.try_get(7).map_err(database)?,
        cause: row.try_get(8).map_err(database)?,
        heartbeat_at: row.try_get(9).map_err(database)?,
        created_at: row.try_get(10).map_err(database)?,
    };
    columns.into_record()
}

impl Store for PostgresStore {
    queued_writes!();

    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        let workflows = workflows.to_vec();
        self.read(move |reader| async move {
            let rows = reader
                .query(
                    "SELECT DISTINCT owner FROM workflow_executions
                     WHERE status = $1 AND owner IS NOT NULL AND workflow = ANY($2)",
                    &[&status_text(ExecutionStatus::Running), &workflows],
                )
                .await
                .map_err(database)?;
            rows.iter()
                .map(|row| row.try_get(0).map_err(database))
                .collect()
        })
    }

    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        self.read(move |reader| async move {
            let row = reader
                .query_opt(
                    &format!("SELECT {REQUEST_COLUMNS} FROM workflow_requests WHERE id = $1"),
                    &[&id],
                )
                .await
                .map_err(database)?;
            row.as_ref().map(read_request).transpose()
        })
    }

    fn definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        self.read(move |reader| async move {
            let rows = reader
                .query(
                    "SELECT workflow, fingerprint, definition, registered_at FROM workflow_definitions AS d
                     WHERE registered_at = (SELECT MAX(registered_at) FROM workflow_definitions WHERE workflow = d.workflow)
                     ORDER BY workflow",
                    &[],
                )
                .await
                .map_err(database)?;
            rows.iter().map(|row| definition_columns(row)?.into_definition()).collect()
        })
    }

    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>> {
        let (workflow, fingerprint) = (workflow.to_owned(), fingerprint.to_owned());
        self.read(move |reader| async move {
            let row = reader
                .query_opt(
                    "SELECT workflow, fingerprint, definition, registered_at FROM workflow_definitions
                     WHERE workflow = $1 AND fingerprint = $2",
                    &[&workflow, &fingerprint],
                )
                .await
                .map_err(database)?;
            row.map(|row| definition_columns(&row)?.into_definition())
                .transpose()
        })
    }

    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>> {
        let id = execution.to_string();
        self.read(move |reader| async move {
            let row = reader
                .query_opt(&format!("{SELECT_EXECUTION} WHERE id = $1"), &[&id])
                .await
                .map_err(database)?;
            row.as_ref().map(record).transpose()
        })
    }

    fn history(
        &self,
        execution: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> StoreFuture<Vec<Event>> {
        let id = execution.to_string();
        self.read(move |reader| async move {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = reader
                .query(
                    "SELECT event FROM workflow_events WHERE execution_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                    &[&id, &(after as i64), &limit],
                )
                .await
                .map_err(database)?;
            rows.iter()
                .map(|row| {
                    let text: String = row.try_get(0).map_err(database)?;
                    serde_json::from_str(&text).map_err(|error| StoreError::Corrupt {
                        execution: id.clone(),
                        reason: format!("an event does not parse: {error}"),
                    })
                })
                .collect()
        })
    }

    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>> {
        self.read(move |reader| async move {
            let mut sql = format!("{SELECT_EXECUTION} WHERE TRUE");
            let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
            let mut condition =
                |sql: &mut String, clause: &str, value: Box<dyn ToSql + Sync + Send>| {
                    values.push(value);
                    sql.push_str(&format!(" AND {clause} ${}", values.len()));
                };
            if let Some(workflow) = filter.workflow.clone() {
                condition(&mut sql, "workflow =", Box::new(workflow));
            }
            if let Some(name) = filter.name.clone() {
                condition(&mut sql, "name =", Box::new(name));
            }
            if let Some(status) = filter.status {
                condition(&mut sql, "status =", Box::new(status_text(status)));
            }
            if let Some(after) = filter.started_after {
                condition(&mut sql, "started_at >=", Box::new(nanos(after)));
            }
            if let Some(before) = filter.started_before {
                condition(&mut sql, "started_at <", Box::new(nanos(before)));
            }
            sql.push_str(" ORDER BY started_at DESC, id");
            if let Some(limit) = filter.limit {
                values.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
                sql.push_str(&format!(" LIMIT ${}", values.len()));
            }
            let parameters: Vec<&(dyn ToSql + Sync)> = values
                .iter()
                .map(|value| &**value as &(dyn ToSql + Sync))
                .collect();
            let rows = reader.query(&sql, &parameters).await.map_err(database)?;
            rows.iter().map(record).collect()
        })
    }

    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        let hash = token_hash.to_owned();
        self.read(move |reader| async move {
            let row = reader
                .query_opt(
                    &format!("{SELECT_CALLBACK} WHERE token_hash = $1"),
                    &[&hash],
                )
                .await
                .map_err(database)?;
            row.as_ref().map(callback).transpose()
        })
    }

    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        let id = execution.to_string();
        self.read(move |reader| async move {
            let row = reader
                .query_opt(
                    &format!("{SELECT_CALLBACK} WHERE execution_id = $1 AND event_id = $2"),
                    &[&id, &(event_id as i64)],
                )
                .await
                .map_err(database)?;
            row.as_ref().map(callback).transpose()
        })
    }
}
