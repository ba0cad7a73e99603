//! What the SQLite store offers beyond the core [`Store`](crate::store::Store): leases,
//! callbacks, requests and recorded definitions. Their writes go through the store's queue
//! (`queued_writes!`); their reads are the shared ones, on the reading connection.

use super::{presence, SqliteStore};
use crate::execution::ExecutionId;
use crate::store::queue::queued_writes;
use crate::store::sql::{now, read};
use crate::store::{
    CallbackRecord, Callbacks, Definitions, ExecutionRequest, Leases, Liveness, Presence, Requests,
    StoreError, StoreFuture, StoredDefinition,
};

impl Leases for SqliteStore {
    queued_writes!(Leases);

    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        let workflows = workflows.to_vec();
        self.read(move |sql| now(read::owners(sql, &workflows)))
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
        self.read(move |sql| now(read::callback_by_token(sql, &token_hash)))
    }

    fn callback_of(
        &self,
        execution: &ExecutionId,
        event_id: u64,
    ) -> StoreFuture<Option<CallbackRecord>> {
        let execution = execution.to_string();
        self.read(move |sql| now(read::callback_of(sql, &execution, event_id)))
    }
}

impl Requests for SqliteStore {
    queued_writes!(Requests);

    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        self.read(move |sql| now(read::request_of(sql, id)))
    }
}

impl Definitions for SqliteStore {
    queued_writes!(Definitions);

    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        self.read(move |sql| now(read::latest_definitions(sql)))
    }

    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>> {
        let (workflow, fingerprint) = (workflow.to_owned(), fingerprint.to_owned());
        self.read(move |sql| now(read::definition_of(sql, &workflow, &fingerprint)))
    }
}
