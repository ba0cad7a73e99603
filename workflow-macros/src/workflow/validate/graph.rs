//! The graph checks of one scope: unreachable states, and states from which no end of the
//! scope can be reached.

use std::collections::VecDeque;

use super::{Model, Target};
use crate::diagnostics::Errors;
use crate::workflow::index::{IndexVec, ScopeIndex, StateIndex};
use crate::workflow::parse::StateBody;

/// Unreachable states, and states from which no end can be reached.
pub(super) fn check_scope(model: &Model<'_>, scope: ScopeIndex, errors: &mut Errors) {
    let Some(start) = model.scopes[scope].start else {
        return;
    };
    let count = model.states.len();
    let members = &model.scopes[scope].states;
    // A target we cannot even guess makes both checks unreliable; its error is enough.
    let guess = |target: Target| match target {
        Target::State(index)
        | Target::Unknown {
            likely: Some(index),
        } => Ok(Some(index)),
        Target::End => Ok(None),
        Target::Unknown { likely: None } => Err(()),
    };
    let mut successors: IndexVec<StateIndex, Vec<StateIndex>> = IndexVec::filled(Vec::new(), count);
    let mut ends = IndexVec::filled(false, count);
    for &index in members {
        let decl = model.state(index);
        ends[index] = matches!(decl.body, StateBody::Succeed | StateBody::Fail { .. });
        for edge in model.edges(index) {
            match guess(edge.target) {
                Ok(Some(next)) => successors[index].push(next),
                Ok(None) => ends[index] = true,
                Err(()) => return,
            }
        }
    }
    let Ok(Some(start)) = guess(start.target) else {
        return;
    };

    let mut reachable = IndexVec::filled(false, count);
    let mut queue = VecDeque::from([start]);
    reachable[start] = true;
    while let Some(index) = queue.pop_front() {
        for &next in &successors[index] {
            if !std::mem::replace(&mut reachable[next], true) {
                queue.push_back(next);
            }
        }
    }

    let mut predecessors: IndexVec<StateIndex, Vec<StateIndex>> =
        IndexVec::filled(Vec::new(), count);
    for (index, nexts) in successors.iter_enumerated() {
        for &next in nexts {
            predecessors[next].push(index);
        }
    }
    let mut finishes = ends.clone();
    let mut queue: VecDeque<StateIndex> = members
        .iter()
        .copied()
        .filter(|&index| ends[index])
        .collect();
    while let Some(index) = queue.pop_front() {
        for &previous in &predecessors[index] {
            if !std::mem::replace(&mut finishes[previous], true) {
                queue.push_back(previous);
            }
        }
    }

    let start_name = &model.state(start).name;
    for &index in members {
        let decl = model.state(index);
        if !reachable[index] {
            errors.at(
                decl.span(),
                format!(
                    "state `{}` is unreachable: no transition from the start state `{start_name}` leads to it",
                    decl.name
                ),
            );
        } else if !finishes[index] {
            errors.at(
                decl.span(),
                format!(
                    "no path from state `{}` ever ends the execution: add a transition to `end`, a `succeed` or a `fail` state",
                    decl.name
                ),
            );
        }
    }
}
