//! The runtime: registered workflows, shared resources, and running executions.

mod admin;
mod admission;
mod alarms;
mod builder;
mod callbacks;
mod deploy;
mod drain;
mod errors;
mod event_log;
pub(crate) mod json;
mod owner;
mod policy;
mod query;
pub(crate) mod registry;
mod resume;
mod running;
mod scheduler;
mod start;
mod worker;

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::engine::Limits;
use crate::logging::LogSink;
use crate::resources::Resources;
use crate::store::Store;
use crate::workflow::Workflow;
use workflow_core::definition::Definition;

pub use builder::RuntimeBuilder;
pub use callbacks::CallbackError;
pub use deploy::{DeployCheck, VersionCheck};
pub use drain::Drained;
pub use errors::{BuildError, Problem, RuntimeError};
pub use owner::Recovery;
use scheduler::Scheduler;
pub use start::ExecutionHandle;
pub use worker::Worker;

/// Runs workflows. Cheap to clone; clones share everything.
///
/// Five methods run an execution; which to use:
///
/// | method | runs | returns | kept | use it for |
/// |---|---|---|---|---|
/// | `call::<W>(input)` | in the calling task | the result alone | nothing | a request/response, an Express workflow above all: the fastest |
/// | `execute::<W>(input)` | in the calling task | the result and the whole history ([`Execution`](crate::Execution)) | in memory | tests, tools, a short run whose history you show |
/// | `start::<W>(input)` | in the background, here | an [`ExecutionHandle`] to await | in the store | a durable execution (Standard), or an asynchronous Express one |
/// | `start_named::<W>(name, input)` | as `start` | as `start` | in the store | the same, started once per name (an order's id): idempotent |
/// | `submit::<W>(name, input)` | on whichever worker claims it | as `start` | in the store | a process that only hands work to workers sharing the store |
///
/// `handle::<W>(id)` awaits an execution started elsewhere (another process, an earlier run).
///
/// Its other methods, by concern: administering executions (`stop`, `redrive`, `recover`,
/// `purge`, `purge_expired`, `serve`, `drain`, `shutdown`), completing callbacks
/// (`send_task_success`, `send_task_failure`, `send_task_heartbeat`) and reading
/// (`describe`, `list`, `history`, `definitions`, `parked`, `owner_name`, `worker_name`).
///
/// ```
/// use workflow::prelude::*;
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Serialize, Deserialize)] pub struct Greeting(String);
/// #[step]
/// async fn greet(name: String) -> Greeting {
///     Greeting(format!("Hello, {name}!"))
/// }
///
/// workflow! {
///     /// Greets someone.
///     pub Greeter: Express<String, Greeting> {
///         start Greet;
///         Greet: task greet -> end;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runtime = Runtime::builder().register::<Greeter>().build()?;
/// let execution = runtime.execute::<Greeter>("Ada".to_owned()).await?;
/// assert_eq!(execution.output().map(|g| g.0.as_str()), Some("Hello, Ada!"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    resources: Arc<Resources>,
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
    limits: Limits,
    /// How long ended executions are kept before `purge_expired` deletes them.
    retention: std::time::Duration,
    /// Where Express executions log, if anywhere.
    sink: Option<Arc<LogSink>>,
    workflows: registry::Registry,
    /// How long a failing store write of a running execution is tried again.
    patience: std::time::Duration,
    /// Set once the registered definitions are recorded in the store.
    definitions_recorded: tokio::sync::OnceCell<()>,
    /// What runs here, and when: admission, running executions, alarms, leases and claims.
    scheduler: Scheduler,
}

/// What starting an Express execution does when the concurrency limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backpressure {
    /// Wait until an execution ends.
    #[default]
    Wait,
    /// Refuse at once with [`RuntimeError::Overloaded`].
    Refuse,
}

/// A registered workflow.
struct Registered {
    definition: &'static Definition,
    /// The definition's fingerprint, worked out once: every start records it and every
    /// resumption compares it, and it costs a serialisation and a hash of the definition.
    fingerprint: String,
    resume: resume::Resume,
    /// [`Workflow::check_task_output`] of the workflow.
    check_output: callbacks::CheckOutput,
    /// Runs it with its input as JSON.
    execute_json: json::ExecuteJson,
    /// Starts it as a child execution, with its input as JSON.
    child_json: json::ChildJson,
    /// Creates an execution of it with its input as JSON.
    start_json: json::StartJson,
}

impl Runtime {
    /// Starts configuring a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The names of the registered workflows.
    fn workflow_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .definitions()
            .map(|definition| definition.name.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Every registered workflow's name and version: what this runtime claims.
    fn registered_versions(&self) -> Vec<(String, u32)> {
        self.definitions()
            .map(|definition| (definition.name.clone(), definition.version))
            .collect()
    }

    /// The fingerprint of `definition`, worked out once for a registered workflow.
    fn fingerprint_of(&self, definition: &Definition) -> String {
        self.inner
            .workflows
            .version(&definition.name, definition.version)
            .map_or_else(
                || definition.fingerprint(),
                |registered| registered.fingerprint.clone(),
            )
    }

    /// Whether a workflow of this name is registered here.
    fn has_workflow(&self, name: &str) -> bool {
        self.registered_named(name).is_some()
    }

    /// The registered workflow of this name.
    fn registered_named(&self, name: &str) -> Option<&Registered> {
        self.inner.workflows.named(name)
    }

    /// A fresh in-memory execution of `W` that has not started, for testing one state.
    #[cfg(feature = "testing")]
    pub(crate) fn test_shared<W: Workflow>(&self) -> Result<crate::engine::Shared, RuntimeError> {
        self.registered::<W>()?;
        Ok(crate::engine::Shared::new(
            crate::execution::ExecutionId::random(),
            W::definition(),
            Arc::clone(&self.inner.resources),
            Arc::clone(&self.inner.clock),
            self.inner.limits,
        ))
    }

    fn registered<W: Workflow>(&self) -> Result<(), RuntimeError> {
        if self.inner.workflows.of_type(TypeId::of::<W>()).is_some() {
            Ok(())
        } else {
            Err(RuntimeError::NotRegistered {
                workflow: W::name().to_owned(),
            })
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.definitions().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        f.debug_struct("Runtime")
            .field("workflows", &names)
            .field("resources", &self.inner.resources)
            .field("clock", &self.inner.clock)
            .field("store", &self.inner.store)
            .finish()
    }
}
