//! What the SQLite store offers beyond the core [`Store`](crate::store::Store): leases,
//! callbacks, requests and recorded definitions. Their writes go through the store's queue
//! (`queued_writes!`); their reads are here.

use rusqlite::{params, OptionalExtension};

use super::apply::json_text;
use super::{callbacks, database, presence, SqliteStore};
use crate::execution::{ExecutionId, ExecutionStatus};
use crate::store::encoding::{status_text, DefinitionColumns};
use crate::store::queue::queued_writes;
use crate::store::{
    CallbackRecord, Callbacks, Definitions, ExecutionRequest, Leases, Liveness, Presence,
    RequestKind, RequestStatus, Requests, StoreError, StoreFuture, StoredDefinition,
};

impl Leases for SqliteStore {
    queued_writes!(Leases);

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
}

impl Callbacks for SqliteStore {
    queued_writes!(Callbacks);

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
}

impl Requests for SqliteStore {
    queued_writes!(Requests);

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
}

impl Definitions for SqliteStore {
    queued_writes!(Definitions);

    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
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
}

pub(super) fn read_request(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRequest> {
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
