//! The definitions capability: a store's record of the workflows runtimes registered, so that
//! tools without the workflows' code (the `workflow` command, the console) can draw any
//! workflow, and any execution as it started. See [`Definitions`].

use std::time::SystemTime;

use workflow_core::Definition;

use super::StoreFuture;

/// A store that records workflow definitions, found through
/// [`Store::definitions`](super::Store::definitions).
///
/// Optional: a runtime on a store without it records nothing (its workflows run as well), and
/// the tools that draw workflows say the store keeps no definitions.
pub trait Definitions: Send + Sync {
    /// Records a workflow's definition as a runtime registered it (again: only its time
    /// changes), so that tools can render the workflow without its code.
    fn save_definition(&self, definition: StoredDefinition) -> StoreFuture<()>;

    /// The latest recorded definition of every workflow, by workflow name.
    fn latest_definitions(&self) -> StoreFuture<Vec<StoredDefinition>>;

    /// The recorded definition of `workflow` with this fingerprint (the one an execution
    /// started with).
    fn definition(
        &self,
        workflow: &str,
        fingerprint: &str,
    ) -> StoreFuture<Option<StoredDefinition>>;
}

/// A workflow's definition as recorded in a store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDefinition {
    /// The workflow's name.
    pub workflow: String,
    /// The definition's fingerprint (executions record the one they started with).
    pub fingerprint: String,
    /// The definition.
    pub definition: Definition,
    /// When a runtime last registered it.
    pub registered_at: SystemTime,
}
