//! The [`Workflow`] trait, implemented by every type `workflow!` declares.

use crate::engine::{ExecutionContext, Machine, StateFuture};
use crate::step::{Payload, Requirement};
use workflow_core::definition::{Definition, StateId};

/// A workflow type declared with `workflow!`.
///
/// Users do not implement it by hand; they name it when starting executions
/// (`runtime.execute::<OrderWorkflow>(order)`) and read its [`definition`](Self::definition).
pub trait Workflow: Send + Sync + 'static {
    /// What an execution starts with.
    type Input: Payload;
    /// What a successful execution ends with.
    type Output: Payload;
    #[doc(hidden)]
    type Machine: Machine<Input = Self::Input, Output = Self::Output>;

    /// The workflow's states and wiring.
    fn definition() -> &'static Definition;

    /// The workflow's name.
    fn name() -> &'static str {
        Self::definition().name.as_str()
    }

    /// Every resource the workflow's steps need, with the state that needs it.
    #[doc(hidden)]
    fn requirements(out: &mut Vec<StateRequirement>);

    /// Whether `output` reads as the output of task state `state`'s step: `None` for a state
    /// that is not a task (used to check what a callback is completed with).
    #[doc(hidden)]
    fn check_task_output(state: StateId, output: &serde_json::Value) -> Option<Result<(), String>> {
        let _ = (state, output);
        None
    }

    /// Runs state `state` once on `input` (see `testing::StateTest`): `None` for a
    /// state that holds no input (Succeed and Fail states).
    #[doc(hidden)]
    fn test_state<'c>(
        state: StateId,
        input: serde_json::Value,
        cx: &'c ExecutionContext<'_>,
    ) -> Option<StateFuture<'c>> {
        let _ = (state, input, cx);
        None
    }
}

/// A resource one state of a workflow needs.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct StateRequirement {
    pub state: &'static str,
    /// The step's type, so a mocked step's resources are not required.
    pub step_type: std::any::TypeId,
    pub step: &'static str,
    pub requirement: Requirement,
}
