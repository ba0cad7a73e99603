//! What the PostgreSQL store offers beyond the core [`Store`](crate::store::Store): leases,
//! callbacks, requests and recorded definitions. Their writes go through the store's queue
//! (`queued_writes!`); their reads are the shared ones, on a reading connection.

use super::{PostgresSql, PostgresStore};
use crate::execution::ExecutionId;
use crate::store::queue::queued_writes;
use crate::store::sql::read;
use crate::store::{
    CallbackRecord, Callbacks, Definitions, ExecutionRequest, Leases, Requests, StoreFuture,
    StoredDefinition,
};

impl Leases for PostgresStore {
    queued_writes!(Leases);

    fn owners(&self, workflows: &[String]) -> StoreFuture<Vec<String>> {
        let workflows = workflows.to_vec();
        self.read(move |reader| {
            let workflows = workflows.clone();
            async move { read::owners(&PostgresSql(&*reader), &workflows).await }
        })
    }
}

impl Callbacks for PostgresStore {
    queued_writes!(Callbacks);

    fn callback(&self, token_hash: &str) -> StoreFuture<Option<CallbackRecord>> {
        let hash = token_hash.to_owned();
        self.read(move |reader| {
            let hash = hash.clone();
            async move { read::callback_by_token(&PostgresSql(&*reader), &hash).await }
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
            async move { read::callback_of(&PostgresSql(&*reader), &id, event_id).await }
        })
    }
}

impl Requests for PostgresStore {
    queued_writes!(Requests);

    fn request_of(&self, id: i64) -> StoreFuture<Option<ExecutionRequest>> {
        self.read(move |reader| async move { read::request_of(&PostgresSql(&*reader), id).await })
    }
}

impl Definitions for PostgresStore {
    queued_writes!(Definitions);

    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>> {
        self.read(
            move |reader| async move { read::latest_definitions(&PostgresSql(&*reader)).await },
        )
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
                read::definition_of(&PostgresSql(&*reader), &workflow, &fingerprint).await
            }
        })
    }
}
