//! Running ASL machines on the runtime: Standard (durable) or Express, like any workflow, with
//! Task states run by [`Handlers`].

mod callback_input;
mod composite_states;
mod context;
mod flow_states;
mod handlers;
mod jsonata_states;
mod machine;
mod mock_config;
mod program;
mod task_state;

use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};
use workflow_core::definition::Definition;
use workflow_core::program::Program as CoreProgram;
use workflow_core::Mode;
use workflow_runtime::RuntimeBuilder;

pub use handlers::{Handlers, Response, TaskCall, TaskError};
use machine::AslMachine;

use crate::definition::{DefinitionError, StateMachine};
use program::Program;

/// An ASL state machine made a workflow of the runtime: named, in a mode, ready to register.
#[derive(Debug, Clone)]
pub struct AslWorkflow {
    definition: Definition,
    machine: StateMachine,
}

impl AslWorkflow {
    /// The workflow `name`, in `mode`, of the ASL definition `json` (read and checked).
    pub fn from_json(name: &str, mode: Mode, json: &Value) -> Result<Self, DefinitionError> {
        let machine = StateMachine::from_json(json)?;
        let mut definition = machine.to_definition(name, mode);
        let program = Program::new(&machine, &definition);
        definition.program = CoreProgram::new(fingerprint(json), Arc::new(program));
        Ok(AslWorkflow {
            definition,
            machine,
        })
    }

    /// [`from_json`](Self::from_json) of the definition's JSON text.
    pub fn from_json_str(name: &str, mode: Mode, text: &str) -> Result<Self, DefinitionError> {
        let json: Value = serde_json::from_str(text).map_err(|error| DefinitionError {
            problems: vec![crate::definition::Problem {
                at: crate::pointer::Pointer::root(),
                message: format!("the definition is not JSON: {error}"),
            }],
        })?;
        Self::from_json(name, mode, &json)
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// The runtime's definition of the workflow: what the diagrams draw and the store keeps.
    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// The state machine as read.
    pub fn machine(&self) -> &StateMachine {
        &self.machine
    }
}

/// A fingerprint of an ASL definition's source: it changes whenever the definition does.
fn fingerprint(json: &Value) -> String {
    // Objects are written with their keys in order: the same definition, the same text.
    let digest = Sha256::digest(json.to_string().as_bytes());
    digest
        .iter()
        .take(12)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Registers ASL workflows on a runtime.
pub trait RegisterAsl {
    /// Registers `workflow`: its executions start by its name (`Runtime::start_json`,
    /// `Runtime::execute_json`), resume after a restart, and show in the console like any
    /// other. Its Task states run the [`Handlers`] added as a resource.
    #[must_use]
    fn register_asl(self, workflow: &AslWorkflow) -> Self;
}

impl RegisterAsl for RuntimeBuilder {
    fn register_asl(self, workflow: &AslWorkflow) -> Self {
        self.register_machine::<AslMachine>(workflow.definition.clone())
    }
}
