//! Nested workflows: a task state that runs another workflow as a child execution and waits
//! for its result (as Step Functions' `startExecution.sync`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::time::SystemTime;

use workflow_core::definition::{Definition, StateId};

use crate::engine::{
    drive_with_timeout, machine_run, ExecutionContext, Machine, MachineRun, Shared,
};
use crate::execution::{ChildExecution, ExecutionFailure, ExecutionId};
use crate::step::{ChildFailure, Payload, StepEnv};
use crate::workflow::Workflow;

/// The running child execution of a task.
pub type ChildRun<O> = Pin<Box<dyn Future<Output = Result<O, ChildFailure>> + Send + 'static>>;

/// Starts workflow `W` as a child of the execution `env` belongs to. The child shares the
/// parent's resources and clock, has its own id and history, and is listed in the parent's
/// children when it ends. Its failure fails the task with the child's own error name.
pub fn run_child<W: Workflow>(env: &StepEnv<'_>, input: W::Input) -> ChildRun<W::Output> {
    let child = run_child_of::<W::Machine>(env, W::definition(), input);
    Box::pin(async move {
        let end = child.await;
        end.result
            .map_err(|failure| ChildFailure::new(end.id, failure.error(), failure.cause()))
    })
}

/// How a child execution ended.
#[derive(Debug)]
pub struct ChildEnd<O> {
    /// The child's id.
    pub id: ExecutionId,
    /// When it started, by the runtime's clock.
    pub started_at: SystemTime,
    /// When it stopped, by the runtime's clock.
    pub stopped_at: SystemTime,
    /// Its output, or how it failed.
    pub result: Result<O, ExecutionFailure>,
}

/// Starts machine `M` of the workflow `definition` as a child of the execution `env` belongs
/// to (a nested workflow's task; for a workflow defined at run time, found by name): as
/// [`run_child`], ending with the child's id, times and result.
pub fn run_child_of<M: Machine>(
    env: &StepEnv<'_>,
    definition: &'static Definition,
    input: M::Input,
) -> Pin<Box<dyn Future<Output = ChildEnd<M::Output>> + Send + 'static>> {
    spawn(
        env.shared,
        definition,
        env.state,
        env.attempt,
        input,
        machine_run::<M>(),
    )
}

/// Runs a machine (through `run`) as a child execution of the execution `cx` belongs to, on
/// the same definition, for state `parent_state`'s attempt `attempt` (an item of a
/// distributed Map state): the child has its own id and history, shares the parent's
/// resources and clock, and is listed in the parent's children when it ends. Its failure is
/// the child's own.
pub(crate) fn run_child_machine<I: Payload, O: Payload>(
    cx: &ExecutionContext<'_>,
    parent_state: StateId,
    attempt: u32,
    input: I,
    run: MachineRun<I, O>,
) -> Pin<Box<dyn Future<Output = Result<O, ExecutionFailure>> + Send + 'static>> {
    let child = spawn(
        cx.shared,
        cx.definition(),
        cx.state_name(parent_state),
        attempt,
        input,
        run,
    );
    Box::pin(async move { child.await.result })
}

/// A child execution of `definition`, run by `run` (its machine), for the parent (`parent`)
/// state `parent_state`'s attempt `attempt`: its own id and history, the parent's resources
/// and clock; listed in the parent's children when it ends.
fn spawn<I: Payload, O: Payload>(
    parent: &Shared,
    definition: &'static Definition,
    parent_state: &'static str,
    attempt: u32,
    input: I,
    run: MachineRun<I, O>,
) -> Pin<Box<dyn Future<Output = ChildEnd<O>> + Send + 'static>> {
    let resources = Arc::clone(&parent.resources);
    let clock = Arc::clone(&parent.clock);
    let siblings = parent.children();
    let limits = parent.limits;
    // Boxed: a workflow may contain itself (a child runs the machine whose state runs it),
    // and its future would otherwise be infinitely large.
    Box::pin(async move {
        let id = ExecutionId::random();
        let started_at = clock.now();
        let shared = Shared::new(
            id.clone(),
            definition,
            resources,
            Arc::clone(&clock),
            limits,
        );
        let (result, status) =
            drive_with_timeout(&ExecutionContext::root(&shared), input, run).await;
        let (history, children) = shared.into_parts();
        siblings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ChildExecution {
                id: id.clone(),
                workflow: &definition.name,
                parent_state,
                attempt,
                status,
                history,
                children,
            });
        ChildEnd {
            id,
            started_at,
            stopped_at: clock.now(),
            result,
        }
    })
}
