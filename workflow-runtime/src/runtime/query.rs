//! Reading: executions' records, lists and histories from the store, the registered
//! definitions, and what this runtime holds (its owner name, its parked executions).

use super::{Runtime, RuntimeError};
use crate::execution::ExecutionId;
use crate::history::Event;
use crate::store::{ExecutionFilter, ExecutionRecord};
use workflow_core::definition::Definition;

impl Runtime {
    /// This worker's name (when it is configured as one; see also [`owner_name`]).
    ///
    /// [`owner_name`]: Self::owner_name
    pub fn worker_name(&self) -> Option<&str> {
        let settings = &self.inner.scheduler.lease;
        settings.configured.then_some(settings.worker.as_str())
    }

    /// This runtime's owner name: the worker name of its leases.
    pub fn owner_name(&self) -> &str {
        &self.inner.scheduler.lease.worker
    }

    /// How many executions this runtime has parked out of memory, waiting to be resumed (see
    /// [`RuntimeBuilder::park_after`](super::RuntimeBuilder::park_after)).
    pub fn parked(&self) -> usize {
        self.inner.scheduler.alarms.len()
    }

    /// The definitions of every registered workflow (each version of one), in the order they
    /// were registered.
    pub fn definitions(&self) -> impl Iterator<Item = &'static Definition> + '_ {
        self.inner
            .workflows
            .iter()
            .map(|registered| registered.definition)
    }

    /// The stored record of an execution: status, input, output or error, times.
    pub async fn describe(&self, id: &ExecutionId) -> Result<ExecutionRecord, RuntimeError> {
        self.inner
            .store
            .execution(id)
            .await?
            .ok_or_else(|| RuntimeError::NoSuchExecution { id: id.to_string() })
    }

    /// Stored executions matching `filter`, newest first.
    pub async fn list(
        &self,
        filter: ExecutionFilter,
    ) -> Result<Vec<ExecutionRecord>, RuntimeError> {
        Ok(self.inner.store.list(filter).await?)
    }

    /// A page of an execution's stored history: the events after id `after` (0 for the
    /// first page), at most `limit`.
    pub async fn history(
        &self,
        id: &ExecutionId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, RuntimeError> {
        Ok(self.inner.store.history(id, after, limit).await?)
    }

    /// An execution's whole stored history.
    pub(super) async fn full_history(&self, id: &ExecutionId) -> Result<Vec<Event>, RuntimeError> {
        Ok(self.inner.store.full_history(id).await?)
    }
}
