//! Reading executions back from the store: records, lists and histories.

use super::{Runtime, RuntimeError};
use crate::execution::ExecutionId;
use crate::history::Event;
use crate::store::{ExecutionFilter, ExecutionRecord};

impl Runtime {
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
