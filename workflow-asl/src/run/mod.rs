//! Running ASL machines on the runtime: Standard (durable) or Express, like any workflow, with
//! Task states run by [`Handlers`].

mod account;
mod callback_input;
mod child_machine;
mod composite_states;
mod context;
mod flow_states;
mod handlers;
mod item_reader;
mod jsonata_states;
mod machine;
mod mock_config;
mod program;
mod task_state;
mod task_steps;

use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};
use workflow_core::definition::Definition;
use workflow_core::program::Program as CoreProgram;
use workflow_core::Mode;
use workflow_runtime::RuntimeBuilder;

pub use account::AwsAccount;
pub use handlers::{Handlers, Response, TaskCall, TaskError};
use machine::AslMachine;

use crate::definition::{DefinitionError, StateMachine};
use program::Program;

/// An ASL state machine made a workflow of the runtime: named, in a mode, ready to register.
#[derive(Debug, Clone)]
pub struct AslWorkflow {
    definition: Definition,
    machine: StateMachine,
    account: AwsAccount,
    /// The fingerprint of the definition's source.
    source: String,
}

impl AslWorkflow {
    /// The workflow `name`, in `mode`, of the ASL definition `json` (read and checked).
    pub fn from_json(name: &str, mode: Mode, json: &Value) -> Result<Self, DefinitionError> {
        let machine = StateMachine::from_json(json)?;
        let definition = machine.to_definition(name, mode);
        Ok(AslWorkflow {
            definition,
            machine,
            account: AwsAccount::default(),
            source: fingerprint(json),
        }
        .with_program())
    }

    /// This workflow run as `account`: the ARNs of its context object name it.
    #[must_use]
    pub fn in_account(mut self, account: AwsAccount) -> Self {
        self.account = account;
        self.with_program()
    }

    /// The account the workflow runs as.
    pub fn account(&self) -> &AwsAccount {
        &self.account
    }

    /// The workflow with its definition carrying what its machine runs.
    fn with_program(mut self) -> Self {
        let program = Program::new(&self.machine, &self.definition, self.account.clone());
        self.definition.program = CoreProgram::new(self.source.clone(), Arc::new(program));
        self
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
