//! The embedded store: one SQLite file in WAL mode, synchronous commits, and group commit.
//!
//! Writes are queued. Whoever queues a write while no commit is under way starts one, on
//! tokio's blocking pool: it takes every request waiting at that moment, commits them in one
//! transaction (each in its own savepoint, so one failing request fails alone), answers each,
//! and goes on while requests keep arriving. Concurrent executions therefore share fsyncs:
//! throughput is not bounded by one commit per transition. (Running commits on the blocking
//! pool also tells a paused tokio clock that work is under way, so virtual time does not jump
//! ahead while a write is pending.) Reads use a second connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

mod callbacks;
mod failure;
mod presence;
mod read_only;
mod schema;

use failure::Failure;
use schema::{configure, migrate};

use super::queue::{queued_writes, Committer, EncodedEvents, Write, WriteQueue, Written};
use super::{
    CallbackRecord, Claim, Created, ExecutionFilter, ExecutionRecord, Fence, Liveness, Presence,
    Store, StoreError, StoreFuture, StoredDefinition,
};
use super::{ExecutionRequest, RequestKind, RequestStatus};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::history::Event;
use crate::store::encoding::{
    check_same_events, definition_text, nanos, not_redrivable, not_running, redrivable,
    status_text, stored_overlap, unknown_status_condition, DefinitionColumns, ExecutionColumns,
};

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
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<T> {
        let reader = Arc::clone(&self.inner.reader);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                read(&reader.lock().unwrap_or_else(PoisonError::into_inner))
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
            Err(Together::CommitFailed(error)) => {
                batch.iter().map(|_| Err(database(&error))).collect()
            }
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
            match apply(&transaction, write) {
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
            Err(error) => return batch.iter().map(|_| Err(database(&error))).collect(),
        };
        let mut outcomes = Vec::with_capacity(batch.len());
        for write in batch {
            let outcome = match transaction.savepoint() {
                Ok(mut savepoint) => {
                    let outcome = apply(&savepoint, write);
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
            Err(error) => outcomes.iter().map(|_| Err(database(&error))).collect(),
        }
    }
}

fn apply(connection: &Connection, write: &Write) -> Result<Written, StoreError> {
    match write {
        Write::Reopen { execution, events } => {
            if insert_events(connection, execution, events)? == Inserted::AlreadyStored {
                // An earlier try of this write committed; its answer was lost.
                return Ok(Written::Done);
            }
            let status = status_of(connection, execution)?;
            if !status.as_deref().is_some_and(redrivable) {
                return Err(not_redrivable(execution.as_str(), status.as_deref()));
            }
            connection
                .execute(
                    "UPDATE executions SET status = ?2, output = NULL, error = NULL, cause = NULL, stopped_at = NULL, owner = NULL, lease_until = NULL
                     WHERE id = ?1",
                    params![execution.as_str(), status_text(ExecutionStatus::Running)],
                )
                .map_err(database)?;
            Ok(Written::Done)
        }
        Write::CreateCallback(callback) => {
            callbacks::create(connection, callback).map(|()| Written::Done)
        }
        Write::ChangeCallback(hash, change) => {
            callbacks::change(connection, hash, change).map(Written::Callback)
        }
        Write::Purge { before, limit } => {
            callbacks::purge(connection, nanos(*before))?;
            // LIMIT -1: no limit.
            let limit = limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
            let deleted = connection
                .execute(
                    "DELETE FROM executions WHERE id IN (
                         SELECT id FROM executions WHERE status <> ?1 AND stopped_at < ?2 LIMIT ?3
                     )",
                    params![status_text(ExecutionStatus::Running), nanos(*before), limit],
                )
                .map_err(database)?;
            Ok(Written::Purged(deleted))
        }
        Write::Create(execution) => {
            let existing = connection
                .query_row(
                    &format!("{SELECT_EXECUTION} WHERE workflow = ?1 AND name = ?2"),
                    params![execution.workflow, execution.name],
                    read_record,
                )
                .optional()
                .map_err(database)?;
            if let Some(existing) = existing {
                return Ok(Written::Created(Created::Existing(Box::new(existing))));
            }
            let lease = execution.lease.as_ref();
            connection
                .execute(
                    "INSERT INTO executions (id, name, workflow, fingerprint, status, input, started_at, owner, lease_token, lease_until)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        execution.id.as_str(),
                        execution.name,
                        execution.workflow,
                        execution.fingerprint,
                        status_text(ExecutionStatus::Running),
                        execution.input.to_string(),
                        nanos(execution.started_at),
                        lease.map(|lease| lease.worker.as_str()),
                        lease.map_or(0, |lease| lease.token),
                        lease.map(|lease| nanos(lease.until)),
                    ],
                )
                .map_err(database)?;
            insert_events(
                connection,
                &execution.id,
                &EncodedEvents::encode(&execution.events)?,
            )?;
            Ok(Written::Created(Created::New))
        }
        Write::Append {
            execution,
            events,
            end,
            fence,
        } => {
            if insert_events(connection, execution, events)? == Inserted::AlreadyStored {
                // An earlier try of this write committed; its answer was lost.
                return Ok(Written::Done);
            }
            match fence {
                Some(fence) => check_fence(connection, execution, fence)?,
                None => check_running(connection, execution)?,
            }
            if let Some(end) = end {
                connection
                    .prepare_cached(
                        "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stopped_at = ?6
                         WHERE id = ?1",
                    )
                    .and_then(|mut update| update.execute(
                        params![
                            execution.as_str(),
                            status_text(end.status),
                            end.output.as_ref().map(Value::to_string),
                            end.error,
                            end.cause,
                            nanos(end.stopped_at),
                        ],
                    ))
                    .map_err(database)?;
            }
            Ok(Written::Done)
        }
        Write::Claim(request) => {
            let mut claim = connection
                .prepare_cached(
                    "UPDATE executions SET owner = ?1, lease_token = lease_token + 1, lease_until = ?2
                     WHERE id IN (
                         SELECT id FROM executions
                         WHERE status = ?3 AND workflow IN (SELECT value FROM json_each(?6))
                           AND id NOT IN (SELECT value FROM json_each(?7))
                           AND (?8 IS NULL OR id IN (SELECT value FROM json_each(?8)))
                           AND (lease_until IS NULL OR lease_until <= ?4
                                OR owner IN (SELECT value FROM json_each(?9))
                                OR (?10 AND owner IS NULL))
                         ORDER BY started_at LIMIT ?5)
                     RETURNING id, workflow, lease_token",
                )
                .map_err(database)?;
            let rows = claim
                .query_map(
                    params![
                        request.worker,
                        nanos(request.until),
                        status_text(ExecutionStatus::Running),
                        nanos(request.now),
                        i64::try_from(request.limit).unwrap_or(i64::MAX),
                        json_text(&request.workflows)?,
                        json_text(&id_texts(&request.skip))?,
                        request
                            .only
                            .as_deref()
                            .map(|only| json_text(&id_texts(only)))
                            .transpose()?,
                        json_text(&request.gone)?,
                        request.early,
                    ],
                    |row| {
                        Ok(Claim {
                            id: ExecutionId::from(row.get::<_, String>(0)?.as_str()),
                            workflow: row.get(1)?,
                            token: row.get(2)?,
                        })
                    },
                )
                .map_err(database)?;
            let claims = rows.collect::<Result<Vec<_>, _>>().map_err(database)?;
            Ok(Written::Claimed(claims))
        }
        Write::Renew {
            worker,
            executions,
            until,
        } => {
            let ids: Vec<&str> = executions.iter().map(ExecutionId::as_str).collect();
            let ids = serde_json::to_string(&ids).map_err(database)?;
            let mut renew = connection
                .prepare_cached(
                    "UPDATE executions SET lease_until = ?2
                     WHERE owner = ?1 AND status = ?3 AND id IN (SELECT value FROM json_each(?4))
                     RETURNING id",
                )
                .map_err(database)?;
            let rows = renew
                .query_map(
                    params![
                        worker,
                        nanos(*until),
                        status_text(ExecutionStatus::Running),
                        ids
                    ],
                    |row| row.get::<_, String>(0),
                )
                .map_err(database)?;
            let held = rows
                .map(|id| id.map(|id| ExecutionId::from(id.as_str())))
                .collect::<Result<Vec<_>, _>>()
                .map_err(database)?;
            Ok(Written::Renewed(held))
        }
        Write::Request {
            execution,
            workflow,
            kind,
            at,
        } => {
            let (error, cause) = kind.error_and_cause();
            connection
                .execute(
                    "INSERT INTO requests (execution_id, workflow, kind, error, cause, requested_at, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
                    params![execution.as_str(), workflow, kind.text(), error, cause, nanos(*at)],
                )
                .map_err(database)?;
            Ok(Written::Requested(connection.last_insert_rowid()))
        }
        Write::TakeRequests { workflows, limit } => {
            let mut take = connection
                .prepare_cached(
                    "UPDATE requests SET status = 'taken' WHERE id IN (
                         SELECT id FROM requests
                         WHERE status = 'pending' AND workflow IN (SELECT value FROM json_each(?1))
                         ORDER BY id LIMIT ?2
                     )
                     RETURNING id, execution_id, workflow, kind, error, cause, requested_at, status, outcome",
                )
                .map_err(database)?;
            let rows = take
                .query_map(
                    params![
                        serde_json::to_string(workflows).map_err(database)?,
                        i64::try_from(*limit).unwrap_or(i64::MAX)
                    ],
                    read_request,
                )
                .map_err(database)?;
            let mut requests = rows.collect::<Result<Vec<_>, _>>().map_err(database)?;
            requests.sort_by_key(|request| request.id);
            Ok(Written::Requests(requests))
        }
        Write::FinishRequest { id, outcome } => {
            let (status, text) = RequestStatus::finished_columns(outcome);
            connection
                .execute(
                    "UPDATE requests SET status = ?2, outcome = ?3 WHERE id = ?1",
                    params![id, status, text],
                )
                .map_err(database)?;
            Ok(Written::Done)
        }
        Write::SaveDefinition(definition) => {
            connection
                .prepare_cached(
                    "INSERT INTO definitions (workflow, fingerprint, definition, registered_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (workflow, fingerprint) DO UPDATE SET registered_at = excluded.registered_at",
                )
                .and_then(|mut insert| {
                    insert.execute(params![
                        definition.workflow,
                        definition.fingerprint,
                        definition_text(definition).map_err(|error| {
                            rusqlite::Error::ToSqlConversionFailure(Box::new(error))
                        })?,
                        nanos(definition.registered_at),
                    ])
                })
                .map_err(database)?;
            Ok(Written::Done)
        }
        Write::Park {
            execution,
            fence,
            wake_at,
        } => {
            check_fence(connection, execution, fence)?;
            connection
                .execute(
                    "UPDATE executions SET owner = NULL, lease_until = ?2 WHERE id = ?1",
                    params![execution.as_str(), nanos(*wake_at)],
                )
                .map_err(database)?;
            Ok(Written::Done)
        }
    }
}

fn read_request(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRequest> {
    let kind: String = row.get(3)?;
    let status: String = row.get(7)?;
    Ok(ExecutionRequest {
        id: row.get(0)?,
        execution: ExecutionId::from(row.get::<_, String>(1)?.as_str()),
        workflow: row.get(2)?,
        kind: RequestKind::from_columns(&kind, row.get(4)?, row.get(5)?),
        requested_at: crate::store::encoding::time(row.get(6)?),
        status: RequestStatus::from_columns(&status, row.get(8)?),
    })
}

fn definition_columns(row: &rusqlite::Row<'_>) -> rusqlite::Result<DefinitionColumns> {
    Ok(DefinitionColumns {
        workflow: row.get(0)?,
        fingerprint: row.get(1)?,
        definition: row.get(2)?,
        registered_at: row.get(3)?,
    })
}

/// Fails with [`StoreError::LeaseLost`] unless `fence` holds the lease of the execution and it
/// is still running (one stopped by another runtime takes no more events from its worker).
fn check_fence(
    connection: &Connection,
    execution: &ExecutionId,
    fence: &Fence,
) -> Result<(), StoreError> {
    let holder: Option<(Option<String>, i64)> = connection
        .prepare_cached("SELECT owner, lease_token FROM executions WHERE id = ?1 AND status = ?2")
        .and_then(|mut select| {
            select
                .query_row(
                    params![execution.as_str(), status_text(ExecutionStatus::Running)],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
        })
        .map_err(database)?;
    match holder {
        Some((Some(owner), token)) if owner == fence.worker && token == fence.token => Ok(()),
        _ => Err(StoreError::LeaseLost {
            execution: execution.to_string(),
        }),
    }
}

/// A value as JSON text, for `json_each`.
fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(database)
}

/// Execution ids as strings.
fn id_texts(ids: &[ExecutionId]) -> Vec<&str> {
    ids.iter().map(ExecutionId::as_str).collect()
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
/// again after its answer was lost), and a conflict otherwise.
fn insert_events(
    connection: &Connection,
    execution: &ExecutionId,
    events: &EncodedEvents,
) -> Result<Inserted, StoreError> {
    let (Some(&first), Some(&last)) = (events.ids.first(), events.ids.last()) else {
        return Ok(Inserted::Nothing);
    };
    let stored_last: i64 = connection
        .prepare_cached(
            "SELECT last_id FROM history WHERE execution_id = ?1 ORDER BY first_id DESC LIMIT 1",
        )
        .and_then(|mut select| {
            select
                .query_row(params![execution.as_str()], |row| row.get(0))
                .optional()
        })
        .map_err(database)?
        .unwrap_or(0);
    let (first, last) = (first.max(0) as u64, last.max(0) as u64);
    let overlap = stored_overlap(execution.as_str(), first, last, stored_last.max(0) as u64)?;
    let skip = usize::try_from(overlap)
        .unwrap_or(usize::MAX)
        .min(events.ids.len());
    if skip > 0 {
        let stored = stored_events(connection, execution, first, first + overlap - 1)?;
        check_same_events(execution.as_str(), &stored, &events.texts[..skip])?;
        if skip == events.ids.len() {
            return Ok(Inserted::AlreadyStored);
        }
    }
    connection
        .prepare_cached(
            "INSERT INTO history (execution_id, first_id, last_id, events) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                execution.as_str(),
                events.ids[skip],
                last as i64,
                events.json_array_from(skip)
            ])
        })
        .map_err(database)?;
    Ok(Inserted::Stored)
}

/// The stored events `first..=last` of a history, as JSON.
fn stored_events(
    connection: &Connection,
    execution: &ExecutionId,
    first: u64,
    last: u64,
) -> Result<Vec<Value>, StoreError> {
    let mut select = connection
        .prepare_cached(
            "SELECT events FROM history WHERE execution_id = ?1 AND last_id >= ?2 AND first_id <= ?3 ORDER BY first_id",
        )
        .map_err(database)?;
    let rows = select
        .query_map(
            params![execution.as_str(), first as i64, last as i64],
            |row| row.get::<_, String>(0),
        )
        .map_err(database)?;
    let mut found = Vec::new();
    for row in rows {
        let events: Vec<Value> =
            serde_json::from_str(&row.map_err(database)?).map_err(|error| StoreError::Corrupt {
                execution: execution.to_string(),
                reason: format!("an event does not parse: {error}"),
            })?;
        found.extend(events.into_iter().filter(|event| {
            event
                .get("id")
                .and_then(Value::as_u64)
                .is_some_and(|id| (first..=last).contains(&id))
        }));
    }
    Ok(found)
}

/// The stored status of an execution, as text; `None` if there is no such execution.
fn status_of(
    connection: &Connection,
    execution: &ExecutionId,
) -> Result<Option<String>, StoreError> {
    connection
        .prepare_cached("SELECT status FROM executions WHERE id = ?1")
        .and_then(|mut select| {
            select
                .query_row(params![execution.as_str()], |row| row.get(0))
                .optional()
        })
        .map_err(database)
}

/// Fails with a conflict unless the execution is running.
fn check_running(connection: &Connection, execution: &ExecutionId) -> Result<(), StoreError> {
    let status = status_of(connection, execution)?;
    if status.as_deref() == Some(status_text(ExecutionStatus::Running)) {
        Ok(())
    } else {
        Err(not_running(execution.as_str(), status.as_deref()))
    }
}

const SELECT_EXECUTION: &str =
    "SELECT id, name, workflow, status, input, output, error, cause, started_at, stopped_at, fingerprint FROM executions";

/// A row of `executions`: a record, marked as unreadable where its data does not read.
fn read_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRecord> {
    let columns = ExecutionColumns {
        id: row.get(0)?,
        name: text(row, 1),
        workflow: text(row, 2),
        status: text(row, 3),
        input: text(row, 4),
        output: text(row, 5),
        error: text(row, 6),
        cause: text(row, 7),
        started_at: row.get(8).ok(),
        stopped_at: row.get(9).ok().flatten(),
        fingerprint: text(row, 10),
    };
    Ok(columns.into_record())
}

/// A column as text, if it is text (or UTF-8 bytes).
fn text(row: &rusqlite::Row<'_>, index: usize) -> Option<String> {
    match row.get_ref(index).ok()? {
        rusqlite::types::ValueRef::Text(bytes) | rusqlite::types::ValueRef::Blob(bytes) => {
            String::from_utf8(bytes.to_vec()).ok()
        }
        _ => None,
    }
}

impl Store for SqliteStore {
    queued_writes!();

    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        let workflows = json_text(workflows);
        self.read(move |connection| {
            let mut query = connection
                .prepare_cached(
                    "SELECT DISTINCT owner FROM executions
                     WHERE status = ?1 AND owner IS NOT NULL
                       AND workflow IN (SELECT value FROM json_each(?2))",
                )
                .map_err(database)?;
            let rows = query
                .query_map(
                    params![status_text(ExecutionStatus::Running), workflows?],
                    |row| row.get::<_, String>(0),
                )
                .map_err(database)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(database)
        })
    }

    fn announce(&self, owner: &str) -> Result<Presence, StoreError> {
        presence::announce(&self.inner.path, owner)
    }

    fn liveness(&self, owner: &str) -> Liveness {
        presence::liveness(&self.inner.path, owner)
    }

    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        self.read(move |connection| {
            connection
                .query_row(
                    "SELECT id, execution_id, workflow, kind, error, cause, requested_at, status, outcome
                     FROM requests WHERE id = ?1",
                    [id],
                    read_request,
                )
                .optional()
                .map_err(database)
        })
    }

    fn definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        self.read(move |connection| {
            let mut query = connection
                .prepare_cached(
                    "SELECT workflow, fingerprint, definition, registered_at FROM definitions AS d
                     WHERE registered_at = (SELECT MAX(registered_at) FROM definitions WHERE workflow = d.workflow)
                     ORDER BY workflow",
                )
                .map_err(database)?;
            let rows = query.query_map([], definition_columns).map_err(database)?;
            rows.map(|row| row.map_err(database)?.into_definition())
                .collect()
        })
    }

    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>> {
        let (workflow, fingerprint) = (workflow.to_owned(), fingerprint.to_owned());
        self.read(move |connection| {
            connection
                .query_row(
                    "SELECT workflow, fingerprint, definition, registered_at FROM definitions
                     WHERE workflow = ?1 AND fingerprint = ?2",
                    params![workflow, fingerprint],
                    definition_columns,
                )
                .optional()
                .map_err(database)?
                .map(DefinitionColumns::into_definition)
                .transpose()
        })
    }

    fn execution(&self, execution: &ExecutionId) -> StoreFuture<Option<ExecutionRecord>> {
        let id = execution.to_string();
        self.read(move |connection| {
            connection
                .query_row(
                    &format!("{SELECT_EXECUTION} WHERE id = ?1"),
                    [id],
                    read_record,
                )
                .optional()
                .map_err(database)
        })
    }

    fn history(
        &self,
        execution: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> StoreFuture<Vec<Event>> {
        let id = execution.to_string();
        self.read(move |connection| {
            let mut query = connection
                .prepare_cached(
                    "SELECT events FROM history WHERE execution_id = ?1 AND last_id > ?2 ORDER BY first_id",
                )
                .map_err(database)?;
            let mut rows = query
                .query(params![id, i64::try_from(after).unwrap_or(i64::MAX)])
                .map_err(database)?;
            let mut found = Vec::new();
            while found.len() < limit {
                let Some(row) = rows.next().map_err(database)? else {
                    break;
                };
                let text: String = row.get(0).map_err(database)?;
                let events: Vec<Event> =
                    serde_json::from_str(&text).map_err(|error| StoreError::Corrupt {
                        execution: id.clone(),
                        reason: format!("an event does not parse: {error}"),
                    })?;
                let wanted = events.into_iter().filter(|event| event.id > after);
                found.extend(wanted.take(limit - found.len()));
            }
            Ok(found)
        })
    }

    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        let token_hash = token_hash.to_owned();
        self.read(move |connection| {
            callbacks::read(connection, "WHERE token_hash = ?1", params![token_hash])
        })
    }

    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        let execution = execution.clone();
        self.read(move |connection| {
            callbacks::read(
                connection,
                "WHERE execution_id = ?1 AND event_id = ?2",
                params![execution.as_str(), event_id as i64],
            )
        })
    }

    fn list(&self, filter: ExecutionFilter) -> StoreFuture<Vec<ExecutionRecord>> {
        self.read(move |connection| {
            let mut sql = format!("{SELECT_EXECUTION} WHERE 1 = 1");
            let mut values: Vec<rusqlite::types::Value> = Vec::new();
            if let Some(workflow) = &filter.workflow {
                sql.push_str(" AND workflow = ?");
                values.push(workflow.clone().into());
            }
            if let Some(name) = &filter.name {
                sql.push_str(" AND name = ?");
                values.push(name.clone().into());
            }
            match filter.status {
                // Whatever a store never writes: an unreadable status.
                Some(ExecutionStatus::Unknown) => sql.push_str(&unknown_status_condition()),
                Some(status) => {
                    sql.push_str(" AND status = ?");
                    values.push(status_text(status).to_owned().into());
                }
                None => {}
            }
            if let Some(after) = filter.started_after {
                sql.push_str(" AND started_at >= ?");
                values.push(nanos(after).into());
            }
            if let Some(before) = filter.started_before {
                sql.push_str(" AND started_at < ?");
                values.push(nanos(before).into());
            }
            sql.push_str(" ORDER BY started_at DESC, id");
            if let Some(limit) = filter.limit {
                sql.push_str(" LIMIT ?");
                values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
            }
            let mut query = connection.prepare(&sql).map_err(database)?;
            let rows = query
                .query_map(rusqlite::params_from_iter(values), read_record)
                .map_err(database)?;
            rows.map(|row| row.map_err(database)).collect()
        })
    }
}
