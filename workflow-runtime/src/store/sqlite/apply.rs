//! What each write does in SQL, in the committing transaction: the conditions it checks (a
//! running execution, the lease, events that follow the stored history) and what it changes.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::capabilities::read_request;
use super::{callbacks, database, read_record, SELECT_EXECUTION};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::store::encoding::{
    check_same_events, definition_text, nanos, not_redrivable, not_running, redrivable,
    status_text, stored_overlap,
};
use crate::store::queue::{EncodedEvents, Write, Written};
use crate::store::{Claim, Created, Fence, RequestStatus, StoreError};

pub(super) fn apply(connection: &Connection, write: &Write) -> Result<Written, StoreError> {
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
pub(super) fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
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
