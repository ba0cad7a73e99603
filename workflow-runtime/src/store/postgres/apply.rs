//! What each write does in SQL, in its transaction: the conditions it checks (a running
//! execution, the lease, events that follow the stored history) and what it changes.

use tokio_postgres::Transaction;

use super::capabilities::{callback, read_request, REQUEST_COLUMNS, SELECT_CALLBACK};
use super::{database, record, SELECT_EXECUTION};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::store::encoding::{
    check_same_events, definition_text, nanos, not_redrivable, not_running, redrivable,
    status_text, stored_overlap,
};
use crate::store::queue::{EncodedEvents, Write, Written};
use crate::store::RequestStatus;
use crate::store::{
    CallbackChange, CallbackUpdate, Claim, Created, Fence, NewCallback, StoreError,
};

pub(super) async fn apply(
    transaction: &Transaction<'_>,
    write: &Write,
) -> Result<Written, StoreError> {
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
