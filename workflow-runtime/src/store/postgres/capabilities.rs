//! What the PostgreSQL store offers beyond the core [`Store`](crate::store::Store): leases,
//! callbacks, requests and recorded definitions. Their writes go through the store's queue
//! (`queued_writes!`); their reads are here.

use tokio_postgres::Row;

use super::{database, prepared, PostgresStore};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::store::encoding::{status_text, CallbackColumns, DefinitionColumns};
use crate::store::queue::queued_writes;
use crate::store::{
    CallbackRecord, Callbacks, Definitions, ExecutionRequest, Leases, RequestKind, RequestStatus,
    Requests, StoreError, StoreFuture, StoredDefinition,
};

impl Leases for PostgresStore {
    queued_writes!(Leases);

    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        let workflows = workflows.to_vec();
        self.read(move |reader| {
            let workflows = workflows.clone();
            async move {
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
            }
        })
    }
}

impl Callbacks for PostgresStore {
    queued_writes!(Callbacks);

    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        let hash = token_hash.to_owned();
        self.read(move |reader| {
            let hash = hash.clone();
            async move {
                let statement =
                    prepared(&reader, &format!("{SELECT_CALLBACK} WHERE token_hash = $1")).await?;
                let row = reader
                    .query_opt(&statement, &[&hash])
                    .await
                    .map_err(database)?;
                row.as_ref().map(callback).transpose()
            }
        })
    }

    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        let id = execution.to_string();
        self.read(move |reader| {
            let id = id.clone();
            async move {
                let statement = prepared(
                    &reader,
                    &format!("{SELECT_CALLBACK} WHERE execution_id = $1 AND event_id = $2"),
                )
                .await?;
                let row = reader
                    .query_opt(&statement, &[&id, &(event_id as i64)])
                    .await
                    .map_err(database)?;
                row.as_ref().map(callback).transpose()
            }
        })
    }
}

impl Requests for PostgresStore {
    queued_writes!(Requests);

    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        self.read(move |reader| async move {
            let statement = prepared(
                &reader,
                &format!("SELECT {REQUEST_COLUMNS} FROM workflow_requests WHERE id = $1"),
            )
            .await?;
            let row = reader
                .query_opt(&statement, &[&id])
                .await
                .map_err(database)?;
            row.as_ref().map(read_request).transpose()
        })
    }
}

impl Definitions for PostgresStore {
    queued_writes!(Definitions);

    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
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
        self.read(move |reader| {
            let (workflow, fingerprint) = (workflow.clone(), fingerprint.clone());
            async move {
                let statement = prepared(
                &reader,
                "SELECT workflow, fingerprint, definition, registered_at FROM workflow_definitions
                 WHERE workflow = $1 AND fingerprint = $2",
            )
            .await?;
                let row = reader
                    .query_opt(&statement, &[&workflow, &fingerprint])
                    .await
                    .map_err(database)?;
                row.map(|row| definition_columns(&row)?.into_definition())
                    .transpose()
            }
        })
    }
}

pub(super) const SELECT_CALLBACK: &str = "SELECT token_hash, execution_id, workflow, state, event_id, status, output, error, cause, heartbeat_at, created_at FROM workflow_callbacks";

pub(super) const REQUEST_COLUMNS: &str =
    "id, execution_id, workflow, kind, error, cause, requested_at, status, outcome";

pub(super) fn read_request(row: &Row) -> Result<ExecutionRequest, StoreError> {
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
        requested_at: crate::store::encoding::time(row.try_get(6).map_err(database)?),
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

pub(super) fn callback(row: &Row) -> Result<CallbackRecord, StoreError> {
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
