//! The reads of the SQL stores, and the readers of their rows.

use serde_json::Value as Json;

use super::{Row, Sql, Value};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::history::Event;
use crate::store::encoding::{
    nanos, status_text, time, unknown_status_condition, CallbackColumns, DefinitionColumns,
    ExecutionColumns,
};
use crate::store::{
    CallbackRecord, ExecutionFilter, ExecutionRecord, ExecutionRequest, OpenVersion, RequestKind,
    RequestStatus, StoreError, StoredDefinition,
};

/// A limit as a parameter (no limit: the largest).
pub(crate) fn limit(limit: usize) -> Value<'static> {
    Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX))
}

/// An execution's record.
pub(crate) async fn execution(
    sql: &impl Sql,
    execution: &str,
) -> Result<Option<ExecutionRecord>, StoreError> {
    let row = sql
        .query_first(&sql.statements().execution, &[execution.into()])
        .await?;
    row.as_ref().map(record).transpose()
}

/// Events of a history with ids above `after`, oldest first, at most `limit`.
pub(crate) async fn history(
    sql: &impl Sql,
    execution: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    // Each row holds one event after `after` at least: `limit` rows hold enough.
    let rows = sql
        .query(
            &sql.statements().events_after,
            &[
                execution.into(),
                i64::try_from(after).unwrap_or(i64::MAX).into(),
                self::limit(limit),
            ],
        )
        .await?;
    let mut found = Vec::new();
    for row in rows {
        if found.len() >= limit {
            break;
        }
        let events: Vec<Event> = parse_events(execution, &row.text(0)?)?;
        let wanted = events.into_iter().filter(|event| event.id > after);
        found.extend(wanted.take(limit - found.len()));
    }
    Ok(found)
}

/// A row of appended events (a JSON array) as `T`s, or why it does not read.
pub(crate) fn parse_events<T: serde::de::DeserializeOwned>(
    execution: &str,
    text: &str,
) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        execution: execution.to_owned(),
        reason: format!("an event does not parse: {error}"),
    })
}

/// The stored events `first..=last` of a history, as JSON.
pub(crate) async fn events_between(
    sql: &impl Sql,
    execution: &str,
    first: u64,
    last: u64,
) -> Result<Vec<Json>, StoreError> {
    let rows = sql
        .query(
            &sql.statements().events_between,
            &[
                execution.into(),
                (first as i64).into(),
                (last as i64).into(),
            ],
        )
        .await?;
    let mut found = Vec::new();
    for row in rows {
        let events: Vec<Json> = parse_events(execution, &row.text(0)?)?;
        found.extend(events.into_iter().filter(|event| {
            event
                .get("id")
                .and_then(Json::as_u64)
                .is_some_and(|id| (first..=last).contains(&id))
        }));
    }
    Ok(found)
}

/// Executions matching `filter`, newest first.
pub(crate) async fn list(
    sql: &impl Sql,
    filter: &ExecutionFilter,
) -> Result<Vec<ExecutionRecord>, StoreError> {
    let mut template = format!(
        "SELECT {} FROM {{executions}} WHERE 1 = 1",
        super::dialect::EXECUTION_COLUMNS
    );
    let mut values: Vec<Value<'_>> = Vec::new();
    let mut condition = |template: &mut String, clause: &str, value: Value<'static>| {
        values.push(value);
        template.push_str(&format!(" AND {clause} ${}", values.len()));
    };
    if let Some(workflow) = &filter.workflow {
        condition(&mut template, "workflow =", workflow.clone().into());
    }
    if let Some(name) = &filter.name {
        condition(&mut template, "name =", name.clone().into());
    }
    match filter.status {
        // Whatever a store never writes: an unreadable status.
        Some(ExecutionStatus::Unknown) => template.push_str(&unknown_status_condition()),
        Some(status) => condition(&mut template, "status =", status_text(status).into()),
        None => {}
    }
    if let Some(after) = filter.started_after {
        condition(&mut template, "started_at >=", nanos(after).into());
    }
    if let Some(before) = filter.started_before {
        condition(&mut template, "started_at <", nanos(before).into());
    }
    template.push_str(" ORDER BY started_at DESC, id");
    if let Some(limit) = filter.limit {
        values.push(self::limit(limit));
        template.push_str(&format!(" LIMIT ${}", values.len()));
    }
    let rows = sql.query(&sql.render(&template), &values).await?;
    rows.iter().map(record).collect()
}

/// The owners of running executions of `workflows`.
pub(crate) async fn owners(
    sql: &impl Sql,
    workflows: &[String],
) -> Result<Vec<String>, StoreError> {
    let rows = sql
        .query(
            &sql.statements().owners,
            &[
                status_text(ExecutionStatus::Running).into(),
                workflows.into(),
            ],
        )
        .await?;
    rows.iter().map(|row| row.text(0)).collect()
}

/// How many running executions each version of `workflows` has.
pub(crate) async fn open_versions(
    sql: &impl Sql,
    workflows: &[String],
) -> Result<Vec<OpenVersion>, StoreError> {
    let rows = sql
        .query(
            &sql.statements().open_versions,
            &[
                status_text(ExecutionStatus::Running).into(),
                workflows.into(),
            ],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(OpenVersion {
                workflow: row.text(0)?,
                version: u32::try_from(row.integer(1)?).unwrap_or(0),
                executions: u64::try_from(row.integer(2)?).unwrap_or(0),
            })
        })
        .collect()
}

/// The callback of a token.
pub(crate) async fn callback_by_token(
    sql: &impl Sql,
    token_hash: &str,
) -> Result<Option<CallbackRecord>, StoreError> {
    let row = sql
        .query_first(&sql.statements().callback, &[token_hash.into()])
        .await?;
    row.as_ref().map(callback).transpose()
}

/// The callback of a task attempt.
pub(crate) async fn callback_of(
    sql: &impl Sql,
    execution: &str,
    event_id: u64,
) -> Result<Option<CallbackRecord>, StoreError> {
    let row = sql
        .query_first(
            &sql.statements().callback_of,
            &[execution.into(), (event_id as i64).into()],
        )
        .await?;
    row.as_ref().map(callback).transpose()
}

/// A request.
pub(crate) async fn request_of(
    sql: &impl Sql,
    id: i64,
) -> Result<Option<ExecutionRequest>, StoreError> {
    let row = sql
        .query_first(&sql.statements().request_of, &[id.into()])
        .await?;
    row.as_ref().map(request).transpose()
}

/// The definition of each workflow registered last.
pub(crate) async fn latest_definitions(
    sql: &impl Sql,
) -> Result<Vec<StoredDefinition>, StoreError> {
    let rows = sql.query(&sql.statements().latest_definitions, &[]).await?;
    rows.iter().map(definition).collect()
}

/// A recorded definition.
pub(crate) async fn definition_of(
    sql: &impl Sql,
    workflow: &str,
    fingerprint: &str,
) -> Result<Option<StoredDefinition>, StoreError> {
    let row = sql
        .query_first(
            &sql.statements().definition,
            &[workflow.into(), fingerprint.into()],
        )
        .await?;
    row.as_ref().map(definition).transpose()
}

/// A row of executions: a record, marked as unreadable where its data does not read.
pub(crate) fn record(row: &Row) -> Result<ExecutionRecord, StoreError> {
    let columns = ExecutionColumns {
        id: row.text(0)?,
        name: row.text_if_any(1),
        workflow: row.text_if_any(2),
        status: row.text_if_any(3),
        input: row.text_if_any(4),
        output: row.text_if_any(5),
        error: row.text_if_any(6),
        cause: row.text_if_any(7),
        started_at: row.optional_integer(8).ok().flatten(),
        stopped_at: row.optional_integer(9).ok().flatten(),
        fingerprint: row.text_if_any(10),
        failed_state: row.text_if_any(11),
        version: row.optional_integer(12).ok().flatten(),
    };
    Ok(columns.into_record())
}

/// A row of callbacks.
pub(crate) fn callback(row: &Row) -> Result<CallbackRecord, StoreError> {
    CallbackColumns {
        token_hash: row.text(0)?,
        execution: row.text(1)?,
        workflow: row.text(2)?,
        state: row.text(3)?,
        event_id: row.integer(4)?,
        status: row.text(5)?,
        output: row.optional_text(6)?,
        error: row.optional_text(7)?,
        cause: row.optional_text(8)?,
        heartbeat_at: row.optional_integer(9)?,
        created_at: row.integer(10)?,
    }
    .into_record()
}

/// A row of requests.
pub(crate) fn request(row: &Row) -> Result<ExecutionRequest, StoreError> {
    Ok(ExecutionRequest {
        id: row.integer(0)?,
        execution: ExecutionId::from(row.text(1)?.as_str()),
        workflow: row.text(2)?,
        kind: RequestKind::from_columns(
            &row.text(3)?,
            row.optional_text(4)?,
            row.optional_text(5)?,
        ),
        requested_at: time(row.integer(6)?),
        status: RequestStatus::from_columns(&row.text(7)?, row.optional_text(8)?),
    })
}

/// A row of definitions.
fn definition(row: &Row) -> Result<StoredDefinition, StoreError> {
    DefinitionColumns {
        workflow: row.text(0)?,
        fingerprint: row.text(1)?,
        definition: row.text(2)?,
        registered_at: row.integer(3)?,
    }
    .into_definition()
}
