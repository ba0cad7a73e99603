//! What an ASL workflow's machine runs: its states by the id the runtime's definition gives
//! them, carried in the definition's [`Program`](workflow_core::program::Program).

use workflow_core::definition::{Definition, StateId};

use super::account::AwsAccount;
use crate::definition::{Graph, State, StateKind, StateMachine};

/// The states of one ASL machine, indexed as its runtime definition's.
#[derive(Debug)]
pub(crate) struct Program {
    /// Every state (branch and processor states included), at its [`StateId`]'s index.
    states: Vec<State>,
    /// The account its context object's ARNs name.
    pub(crate) account: AwsAccount,
}

impl Program {
    /// The program of `machine`, whose runtime definition is `definition` (made from it).
    pub(crate) fn new(
        machine: &StateMachine,
        definition: &Definition,
        account: AwsAccount,
    ) -> Self {
        let mut states: Vec<Option<State>> = vec![None; definition.states.len()];
        collect(&machine.graph, definition, &mut states);
        Program {
            states: states.into_iter().flatten().collect(),
            account,
        }
    }

    /// State `id`.
    pub(crate) fn state(&self, id: StateId) -> Option<&State> {
        self.states.get(id.0)
    }
}

fn collect(graph: &Graph, definition: &Definition, out: &mut [Option<State>]) {
    for state in &graph.states {
        if let Some((id, _)) = definition.state_by_name(&state.name) {
            if let Some(slot) = out.get_mut(id.0) {
                *slot = Some(state.clone());
            }
        }
        match &state.kind {
            StateKind::Parallel(parallel) => {
                for branch in &parallel.branches {
                    collect(branch, definition, out);
                }
            }
            StateKind::Map(map) => collect(&map.processor, definition, out),
            _ => {}
        }
    }
}
