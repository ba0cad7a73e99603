//! A durable run's event log: the store's lease capability, under the lease the run holds.
//! It is all the engine sees of the store while it runs an execution.

use std::sync::Arc;
use std::time::SystemTime;

use crate::engine::journal::EventLog;
use crate::execution::ExecutionId;
use crate::history::Event;
use crate::store::{ExecutionEnd, Fence, Store, StoreFuture};

/// Appends and parks one execution, refused by the store once the run's lease is gone.
#[derive(Debug)]
pub(super) struct FencedLog {
    pub(super) store: Arc<dyn Store>,
    pub(super) execution: ExecutionId,
    /// The lease every write must still hold.
    pub(super) fence: Fence,
}

impl EventLog for FencedLog {
    fn append(&self, events: &[Event], end: Option<ExecutionEnd>) -> StoreFuture<()> {
        self.store
            .leases()
            .append_fenced(&self.execution, &self.fence, events, end)
    }

    fn park(&self, wake_at: SystemTime) -> StoreFuture<()> {
        self.store
            .leases()
            .park(&self.execution, &self.fence, wake_at)
    }
}
