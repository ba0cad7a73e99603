//! The [`Workflow`] trait, implemented by every type `workflow!` declares.

use crate::engine::Machine;
use crate::step::{Payload, Requirement};
use workflow_core::definition::Definition;

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
