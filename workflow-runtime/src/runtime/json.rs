//! Running a workflow known by name, with its input and output as JSON: a workflow defined at
//! run time (an Amazon States Language machine) has no Rust type to name, and a tool picks
//! workflows by name.

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{ExecutionHandle, Runtime, RuntimeError};
use crate::engine::{run_child_of, ChildEnd, Machine};
use crate::execution::{Execution, ExecutionFailure, ExecutionId};
use crate::step::{States, StepEnv};
use workflow_core::definition::Definition;

/// [`Runtime::execute_json`] for one registered workflow.
pub(super) type ExecuteJson = for<'r> fn(
    &'r Runtime,
    &'static Definition,
    Value,
) -> BoxFuture<'r, Result<Execution<Value>, RuntimeError>>;

/// [`Runtime::start_json`] for one registered workflow: creates the execution named `name`,
/// run here or by whichever worker claims it.
pub(super) type StartJson = for<'r> fn(
    &'r Runtime,
    &'static Definition,
    String,
    Value,
    bool,
) -> BoxFuture<'r, Result<ExecutionId, RuntimeError>>;

/// The input as machine `M` takes it, or why it does not read as that.
fn input_of<M: Machine>(input: Value) -> Result<M::Input, RuntimeError> {
    serde_json::from_value(input).map_err(|error| RuntimeError::InvalidInput {
        reason: format!(
            "it does not read as `{}`: {error}",
            std::any::type_name::<M::Input>()
        ),
    })
}

pub(super) fn execute_json<'r, M: Machine>(
    runtime: &'r Runtime,
    definition: &'static Definition,
    input: Value,
) -> BoxFuture<'r, Result<Execution<Value>, RuntimeError>> {
    Box::pin(async move {
        let input = input_of::<M>(input)?;
        let execution = runtime.execute_machine::<M>(definition, input).await?;
        let Execution {
            id,
            workflow,
            status,
            started_at,
            stopped_at,
            result,
            history,
            children,
        } = execution;
        let result = result.and_then(|output| {
            serde_json::to_value(output).map_err(|error| {
                ExecutionFailure::predefined(
                    None,
                    States::Runtime,
                    format!("the execution's output could not be serialised as JSON: {error}"),
                )
            })
        });
        Ok(Execution {
            id,
            workflow,
            status,
            started_at,
            stopped_at,
            result,
            history,
            children,
        })
    })
}

pub(super) fn start_json<'r, M: Machine>(
    runtime: &'r Runtime,
    definition: &'static Definition,
    name: String,
    input: Value,
    run_here: bool,
) -> BoxFuture<'r, Result<ExecutionId, RuntimeError>> {
    Box::pin(async move {
        let input = input_of::<M>(input)?;
        let handle = runtime
            .create::<M>(definition, &name, input, run_here)
            .await?;
        Ok(handle.id().clone())
    })
}

impl Runtime {
    /// Runs an execution of the registered workflow named `workflow` (its latest registered
    /// version) in the calling task, as
    /// [`execute`](Self::execute) does, with its input and output as JSON: for a workflow
    /// known only by name (one defined at run time, an ASL machine, or one a tool picks).
    ///
    /// An input that does not read as the workflow's input type is
    /// [`RuntimeError::InvalidInput`]; an unknown name, [`RuntimeError::NotRegistered`].
    pub async fn execute_json(
        &self,
        workflow: &str,
        input: Value,
    ) -> Result<Execution<Value>, RuntimeError> {
        let registered = self
            .registered_named(workflow)
            .ok_or_else(|| not_registered(workflow))?;
        (registered.execute_json)(self, registered.definition, input).await
    }

    /// Starts a durable execution of the registered workflow named `workflow`, on its latest
    /// registered version, as
    /// [`start_named`](Self::start_named) does (or [`start`](Self::start) without a name),
    /// with its input and output as JSON.
    pub async fn start_json(
        &self,
        workflow: &str,
        name: Option<&str>,
        input: Value,
    ) -> Result<ExecutionHandle<Value>, RuntimeError> {
        self.create_json(workflow, name, input, true).await
    }

    /// Creates a durable execution of the latest registered version of the workflow named
    /// `workflow` for whichever
    /// worker claims it, as [`submit`](Self::submit) does, with its input as JSON.
    pub async fn submit_json(
        &self,
        workflow: &str,
        name: &str,
        input: Value,
    ) -> Result<ExecutionHandle<Value>, RuntimeError> {
        self.create_json(workflow, Some(name), input, false).await
    }

    /// A handle to execution `id` of any workflow, to await its output as JSON (an
    /// execution started elsewhere: another process, an earlier run).
    pub fn handle_json(&self, id: ExecutionId) -> ExecutionHandle<Value> {
        self.handle_of(id)
    }

    async fn create_json(
        &self,
        workflow: &str,
        name: Option<&str>,
        input: Value,
        run_here: bool,
    ) -> Result<ExecutionHandle<Value>, RuntimeError> {
        let registered = self
            .registered_named(workflow)
            .ok_or_else(|| not_registered(workflow))?;
        let name = name.map_or_else(|| ExecutionId::random().as_str().to_owned(), str::to_owned);
        let id =
            (registered.start_json)(self, registered.definition, name, input, run_here).await?;
        Ok(self.handle_of(id))
    }
}

fn not_registered(workflow: &str) -> RuntimeError {
    RuntimeError::NotRegistered {
        workflow: workflow.to_owned(),
    }
}

/// A child execution started with its input as JSON, ending with its output as JSON. Not a
/// public API.
#[doc(hidden)]
pub type ChildJsonRun =
    std::pin::Pin<Box<dyn std::future::Future<Output = ChildEnd<Value>> + Send + 'static>>;

/// Starts one registered workflow as a child of the execution of a step, with JSON.
pub(super) type ChildJson =
    fn(&StepEnv<'_>, &'static Definition, Value) -> Result<ChildJsonRun, RuntimeError>;

/// [`ChildJson`] of machine `M`.
pub(super) fn child_json<M: Machine>(
    env: &StepEnv<'_>,
    definition: &'static Definition,
    input: Value,
) -> Result<ChildJsonRun, RuntimeError> {
    let child = run_child_of::<M>(env, definition, input_of::<M>(input)?);
    Ok(Box::pin(async move {
        let end = child.await;
        let result = end.result.and_then(|output| {
            serde_json::to_value(output).map_err(|error| {
                ExecutionFailure::predefined(
                    None,
                    States::Runtime,
                    format!("the child's output is not JSON: {error}"),
                )
            })
        });
        ChildEnd {
            id: end.id,
            started_at: end.started_at,
            stopped_at: end.stopped_at,
            result,
        }
    }))
}
