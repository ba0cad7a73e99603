//! What each write does in SQL, in the committing transaction: the conditions it checks (a
//! running execution, the lease, events that follow the stored history) and what it changes.
//! In PostgreSQL, the rows an append or a callback's change depends on are locked
//! (`{lock}`) as they are read, so that no other transaction changes them before this one
//! ends; SQLite's writer holds the whole file.

use serde_json::Value as Json;

use super::known::{Known, KnownRows};
use super::queue::{EncodedEvents, Write, Written};
use super::read::{self, limit, record};
use super::value::Row;
use super::{Sql, Value};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::store::encoding::{
    check_same_events, definition_text, nanos, not_redrivable, not_running, redrivable,
    status_text, stored_overlap,
};
use crate::store::{
    CallbackChange, CallbackUpdate, Claim, Created, ExecutionEnd, Fence, NewCallback, NewExecution,
    RequestStatus, StoreError,
};

/// Applies `write` in the transaction `sql`; what it did. A write that fails may have
/// changed something before it failed: the caller rolls it back (its savepoint, or the
/// whole transaction).
///
/// With `known`, an append takes its execution's row from there when it is known, instead of
/// reading it, and keeps it up to date: only for a connection that is the only writer while
/// it knows, which forgets all when that may no longer hold (see [`KnownRows`]).
pub(crate) async fn apply(
    sql: &impl Sql,
    write: &Write,
    known: Option<&mut KnownRows>,
) -> Result<Written, StoreError> {
    let statements = sql.statements();
    match write {
        Write::Create(execution) => create(sql, execution).await.map(Written::Created),
        Write::Append {
            execution,
            events,
            end,
            fence,
        } => append(sql, execution, events, end.as_ref(), fence.as_ref(), known).await,
        Write::Reopen { execution, events } => {
            let (locked, stored_last, into) = lock_for_append(sql, execution).await?;
            if insert_events(sql, execution, into, events, stored_last).await?
                == Inserted::AlreadyStored
            {
                // An earlier try of this write committed; its answer was lost.
                return Ok(Written::Done);
            }
            let status = locked.map(|locked| locked.status);
            if !status.as_deref().is_some_and(redrivable) {
                return Err(not_redrivable(execution.as_str(), status.as_deref()));
            }
            sql.execute(
                &statements.reopen,
                &[
                    execution.as_str().into(),
                    status_text(ExecutionStatus::Running).into(),
                ],
            )
            .await?;
            Ok(Written::Done)
        }
        Write::Purge { before, limit } => {
            sql.execute(&statements.purge_callbacks, &[nanos(*before).into()])
                .await?;
            let deleted = sql
                .execute(
                    &statements.purge,
                    &[
                        status_text(ExecutionStatus::Running).into(),
                        nanos(*before).into(),
                        self::limit(limit.unwrap_or(usize::MAX)),
                    ],
                )
                .await?;
            Ok(Written::Purged(
                usize::try_from(deleted).unwrap_or(usize::MAX),
            ))
        }
        Write::CreateCallback(callback) => {
            create_callback(sql, callback).await?;
            Ok(Written::Done)
        }
        Write::ChangeCallback(hash, change) => change_callback(sql, hash, change)
            .await
            .map(Written::Callback),
        Write::Claim(request) => {
            let version_keys = request.version_keys();
            let rows = sql
                .query(
                    &statements.claim,
                    &[
                        request.worker.as_str().into(),
                        nanos(request.until).into(),
                        status_text(ExecutionStatus::Running).into(),
                        nanos(request.now).into(),
                        limit(request.limit),
                        request.workflows.as_slice().into(),
                        ids(&request.skip),
                        request.only.as_deref().map_or(Value::Null, ids),
                        request.gone.as_slice().into(),
                        request.early.into(),
                        match version_keys.is_empty() {
                            true => Value::Null,
                            false => version_keys.as_slice().into(),
                        },
                    ],
                )
                .await?;
            let claims = rows
                .iter()
                .map(|row| {
                    Ok(Claim {
                        id: ExecutionId::from(row.text(0)?.as_str()),
                        workflow: row.text(1)?,
                        token: row.integer(2)?,
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
            let rows = sql
                .query(
                    &statements.renew,
                    &[
                        worker.into(),
                        nanos(*until).into(),
                        status_text(ExecutionStatus::Running).into(),
                        ids(executions),
                    ],
                )
                .await?;
            let held = rows
                .iter()
                .map(|row| Ok(ExecutionId::from(row.text(0)?.as_str())))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Written::Renewed(held))
        }
        Write::Park {
            execution,
            fence,
            wake_at,
        } => {
            held(lock(sql, execution).await?.as_ref(), execution, fence)?;
            sql.execute(
                &statements.park,
                &[execution.as_str().into(), nanos(*wake_at).into()],
            )
            .await?;
            Ok(Written::Done)
        }
        Write::Request {
            execution,
            workflow,
            kind,
            at,
        } => {
            let (error, cause) = kind.error_and_cause();
            let row = sql
                .query_first(
                    &statements.request,
                    &[
                        execution.as_str().into(),
                        workflow.into(),
                        kind.text().into(),
                        error.into(),
                        cause.into(),
                        nanos(*at).into(),
                    ],
                )
                .await?;
            let id = row
                .ok_or_else(|| StoreError::failed("a request was recorded without an id"))?
                .integer(0)?;
            Ok(Written::Requested(id))
        }
        Write::TakeRequests { workflows, limit } => {
            let rows = sql
                .query(
                    &statements.take_requests,
                    &[workflows.as_slice().into(), self::limit(*limit)],
                )
                .await?;
            let mut requests = rows
                .iter()
                .map(read::request)
                .collect::<Result<Vec<_>, _>>()?;
            requests.sort_by_key(|request| request.id);
            Ok(Written::Requests(requests))
        }
        Write::FinishRequest { id, outcome } => {
            let (status, text) = RequestStatus::finished_columns(outcome);
            sql.execute(
                &statements.finish_request,
                &[(*id).into(), status.into(), text.into()],
            )
            .await?;
            Ok(Written::Done)
        }
        Write::SaveDefinition(definition) => {
            sql.execute(
                &statements.save_definition,
                &[
                    definition.workflow.as_str().into(),
                    definition.fingerprint.as_str().into(),
                    definition_text(definition)?.into(),
                    nanos(definition.registered_at).into(),
                ],
            )
            .await?;
            Ok(Written::Done)
        }
    }
}

/// Execution ids, as a list parameter.
/// Appends `events` to `execution`'s history, if it is running (under `fence`'s lease, when
/// there is one); ends it with `end`, if given.
async fn append(
    sql: &impl Sql,
    execution: &ExecutionId,
    events: &EncodedEvents,
    end: Option<&ExecutionEnd>,
    fence: Option<&Fence>,
    known: Option<&mut KnownRows>,
) -> Result<Written, StoreError> {
    let id = execution.as_str();
    // The row as known, or as read (`read` is then `Some`, its `Locked` if it exists).
    let known_row = known
        .as_deref()
        .and_then(|known| known.get(id))
        .map(|row| (row.last_event, row.key));
    let (read, stored_last, into) = match known_row {
        Some((last, key)) => (None, last, HistoryOf::Key(key)),
        None => {
            let (locked, last, into) = lock_for_append(sql, execution).await?;
            (Some(locked), last, into)
        }
    };
    if insert_events(sql, execution, into, events, stored_last).await? == Inserted::AlreadyStored {
        // An earlier try of this write committed; its answer was lost.
        if let Some(known) = known {
            known.forget(id);
        }
        return Ok(Written::Done);
    }
    let locked = match &read {
        Some(locked) => locked.as_ref(),
        None => known
            .as_deref()
            .and_then(|known| known.get(id))
            .map(|known| &known.locked),
    };
    match fence {
        Some(fence) => held(locked, execution, fence)?,
        None => running(locked, execution)?,
    }
    if let Some(end) = end {
        self::end(sql, execution, end).await?;
    }
    if let Some(known) = known {
        let last_event = events
            .last_id()
            .map_or(stored_last, |last| last.max(0) as u64);
        match (end, read, into) {
            (Some(_), ..) => known.forget(id),
            (None, None, _) => known.appended(id, last_event),
            (None, Some(Some(locked)), HistoryOf::Key(key)) => known.learn(
                id,
                Known {
                    locked,
                    last_event,
                    key,
                },
            ),
            (None, Some(_), _) => known.forget(id),
        }
    }
    Ok(Written::Done)
}

fn ids(ids: &[ExecutionId]) -> Value<'_> {
    Value::Texts(ids.iter().map(ExecutionId::as_str).collect())
}

/// Creates an execution with its first events, unless one of the same workflow and name
/// exists: then that one.
async fn create(sql: &impl Sql, execution: &NewExecution) -> Result<Created, StoreError> {
    let statements = sql.statements();
    let lease = execution.lease.as_ref();
    let inserted = sql
        .execute(
            &statements.create,
            &[
                execution.id.as_str().into(),
                execution.name.as_str().into(),
                execution.workflow.as_str().into(),
                execution.fingerprint.as_str().into(),
                status_text(ExecutionStatus::Running).into(),
                execution.input.to_string().into(),
                nanos(execution.started_at).into(),
                lease.map(|lease| lease.worker.as_str()).into(),
                lease.map_or(0, |lease| lease.token).into(),
                lease.map(|lease| nanos(lease.until)).into(),
                i64::from(execution.version).into(),
            ],
        )
        .await?;
    if inserted == 0 {
        let existing = sql
            .query_first(
                &statements.execution_named,
                &[
                    execution.workflow.as_str().into(),
                    execution.name.as_str().into(),
                ],
            )
            .await?;
        return match existing {
            Some(existing) => Ok(Created::Existing(Box::new(record(&existing)?))),
            // Another execution holds its id.
            None => Err(StoreError::Conflict {
                execution: execution.id.to_string(),
                reason: "an execution with this id exists already".to_owned(),
            }),
        };
    }
    // A new execution: nothing of its history is stored yet.
    insert_events(
        sql,
        &execution.id,
        HistoryOf::Id,
        &EncodedEvents::encode(&execution.events),
        0,
    )
    .await?;
    Ok(Created::New)
}

/// Records how an execution ended.
async fn end(
    sql: &impl Sql,
    execution: &ExecutionId,
    end: &ExecutionEnd,
) -> Result<(), StoreError> {
    sql.execute(
        &sql.statements().end,
        &[
            execution.as_str().into(),
            status_text(end.status).into(),
            end.output.as_ref().map(Json::to_string).into(),
            end.error.as_deref().into(),
            end.cause.as_deref().into(),
            nanos(end.stopped_at).into(),
            end.failed_state.as_deref().into(),
        ],
    )
    .await?;
    Ok(())
}

/// An execution's status and lease, read with its row locked until the transaction ends:
/// nothing changes the execution between a write's checks and its changes (in PostgreSQL; in
/// SQLite the writer holds the file).
#[derive(Debug)]
pub(super) struct Locked {
    status: String,
    owner: Option<String>,
    token: i64,
}

impl Locked {
    /// From the first three columns of `row`: status, owner, lease token.
    fn from_row(row: &Row) -> Result<Self, StoreError> {
        Ok(Locked {
            status: row.text(0)?,
            owner: row.optional_text(1)?,
            token: row.integer(2)?,
        })
    }
}

/// The execution's [`Locked`] row; `None` if there is no such execution.
async fn lock(sql: &impl Sql, execution: &ExecutionId) -> Result<Option<Locked>, StoreError> {
    let row = sql
        .query_first(&sql.statements().lock, &[execution.as_str().into()])
        .await?;
    row.as_ref().map(Locked::from_row).transpose()
}

/// The execution's [`Locked`] row (`None`: no such execution), the last event id of its
/// history (0: none), and where new events go.
async fn lock_for_append(
    sql: &impl Sql,
    execution: &ExecutionId,
) -> Result<(Option<Locked>, u64, HistoryOf), StoreError> {
    let Some(row) = sql
        .query_first(
            &sql.statements().lock_for_append,
            &[execution.as_str().into()],
        )
        .await?
    else {
        return Ok((None, 0, HistoryOf::Nowhere));
    };
    let locked = Locked::from_row(&row)?;
    let last = row.optional_integer(3)?.unwrap_or(0).max(0) as u64;
    Ok((Some(locked), last, HistoryOf::Key(row.integer(4)?)))
}

/// Fails with [`StoreError::LeaseLost`] unless `fence` holds the lease of the execution and it
/// is still running (one stopped by another runtime takes no more events from its worker).
fn held(locked: Option<&Locked>, execution: &ExecutionId, fence: &Fence) -> Result<(), StoreError> {
    match locked {
        Some(locked)
            if locked.status == status_text(ExecutionStatus::Running)
                && locked.owner.as_deref() == Some(fence.worker.as_str())
                && locked.token == fence.token =>
        {
            Ok(())
        }
        _ => Err(StoreError::LeaseLost {
            execution: execution.to_string(),
        }),
    }
}

/// Fails with a conflict unless the execution is running.
fn running(locked: Option<&Locked>, execution: &ExecutionId) -> Result<(), StoreError> {
    let status = locked.map(|locked| locked.status.as_str());
    if status == Some(status_text(ExecutionStatus::Running)) {
        Ok(())
    } else {
        Err(not_running(execution.as_str(), status))
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
/// again after its answer was lost), and a conflict otherwise.
async fn insert_events(
    sql: &impl Sql,
    execution: &ExecutionId,
    into: HistoryOf,
    events: &EncodedEvents,
    stored_last: u64,
) -> Result<Inserted, StoreError> {
    let (Some(first), Some(last)) = (events.first_id(), events.last_id()) else {
        return Ok(Inserted::Nothing);
    };
    let statements = sql.statements();
    let (first, last) = (first.max(0) as u64, last.max(0) as u64);
    let overlap = stored_overlap(execution.as_str(), first, last, stored_last)?;
    let skip = usize::try_from(overlap)
        .unwrap_or(usize::MAX)
        .min(events.len());
    if skip > 0 {
        let stored =
            read::events_between(sql, execution.as_str(), first, first + overlap - 1).await?;
        check_same_events(execution.as_str(), &stored, &events.texts(skip))?;
        if skip == events.len() {
            return Ok(Inserted::AlreadyStored);
        }
    }
    // Without such an execution nothing is inserted, and the caller's check of its row
    // refuses the write.
    let (statement, execution) = match into {
        HistoryOf::Id => (&statements.insert_events, execution.as_str().into()),
        HistoryOf::Key(key) => (&statements.insert_keyed_events, key.into()),
        HistoryOf::Nowhere => return Ok(Inserted::Nothing),
    };
    sql.execute(
        statement,
        &[
            execution,
            events.id(skip).unwrap_or_default().into(),
            (last as i64).into(),
            Value::Text(events.json_array_from(skip)),
        ],
    )
    .await?;
    Ok(Inserted::Stored)
}

/// Whose history an append's events go to: found by key when the execution's row was
/// locked, so that the insert does not look its id up again.
#[derive(Debug, Clone, Copy)]
enum HistoryOf {
    /// The execution of this key.
    Key(i64),
    /// The execution of the append's id.
    Id,
    /// There is no such execution.
    Nowhere,
}

/// Creates a pending callback.
async fn create_callback(sql: &impl Sql, callback: &NewCallback) -> Result<(), StoreError> {
    sql.execute(
        &sql.statements().create_callback,
        &[
            callback.token_hash.as_str().into(),
            callback.execution.as_str().into(),
            callback.workflow.as_str().into(),
            callback.state.as_str().into(),
            (callback.event_id as i64).into(),
            nanos(callback.created_at).into(),
        ],
    )
    .await?;
    Ok(())
}

/// Applies `change` to a pending callback, its row locked meanwhile; what became of it.
async fn change_callback(
    sql: &impl Sql,
    token_hash: &str,
    change: &CallbackChange,
) -> Result<CallbackUpdate, StoreError> {
    let statements = sql.statements();
    let row = sql
        .query_first(&statements.callback_to_change, &[token_hash.into()])
        .await?;
    let Some(row) = row else {
        return Ok(CallbackUpdate::Unknown);
    };
    let mut record = read::callback(&row)?;
    let update = record.apply(change);
    if matches!(update, CallbackUpdate::Applied(_)) {
        sql.execute(
            &statements.change_callback,
            &[
                token_hash.into(),
                record.status.as_str().into(),
                record.output.as_ref().map(Json::to_string).into(),
                record.error.as_deref().into(),
                record.cause.as_deref().into(),
                record.heartbeat_at.map(nanos).into(),
            ],
        )
        .await?;
    }
    Ok(update)
}
