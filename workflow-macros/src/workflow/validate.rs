//! Every check on a parsed workflow, in one place: names, start, targets, reachability,
//! termination. Each check pushes its errors and goes on, so one run reports every mistake.
//! (Type checks between states are left to rustc; see `expand`.)

use std::collections::{HashMap, VecDeque};

use syn::Ident;

use super::parse::{Item, StateBody, StateDecl, WorkflowAst, END};
use crate::diagnostics::Errors;
use crate::names;

/// The workflow mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Standard,
    Express,
}

/// A checked workflow: its states with transitions resolved to indices.
pub(super) struct Model<'a> {
    pub(super) ast: &'a WorkflowAst,
    pub(super) mode: Mode,
    /// The start transition, if `start` named a state.
    pub(super) start: Option<Edge<'a>>,
    /// The states, in declaration order; a second declaration of a name is left out.
    pub(super) states: Vec<StateModel<'a>>,
}

pub(super) struct StateModel<'a> {
    pub(super) decl: &'a StateDecl,
    /// Where a task goes on success.
    pub(super) next: Option<Edge<'a>>,
}

/// A transition and the tokens that wrote it.
#[derive(Clone, Copy)]
pub(super) struct Edge<'a> {
    pub(super) target: Target,
    pub(super) written: &'a Ident,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    State(usize),
    End,
    /// A name that is not a state; reported already.
    Unknown {
        /// The state the name probably meant, for graph checks.
        likely: Option<usize>,
    },
}

impl Model<'_> {
    pub(super) fn state(&self, index: usize) -> &StateDecl {
        self.states[index].decl
    }

    /// Every transition out of a state, including unresolved ones.
    fn edges(&self, index: usize) -> impl Iterator<Item = Edge<'_>> + '_ {
        self.states[index].next.into_iter()
    }
}

pub(super) fn validate<'a>(ast: &'a WorkflowAst, errors: &mut Errors) -> Model<'a> {
    let mode = check_mode(&ast.mode, errors);
    check_name(&ast.name, "workflow", errors);

    let mut states: Vec<StateModel<'a>> = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for item in &ast.items {
        let Item::State(decl) = item else { continue };
        let name = decl.name.to_string();
        check_name(&decl.name, "state", errors);
        if name == END {
            errors.at(
                decl.name.span(),
                "`end` is reserved: `-> end` ends the execution; give the state another name",
            );
            continue;
        }
        if index_of.contains_key(&name) {
            errors.at(
                decl.name.span(),
                format!("state `{name}` is declared more than once"),
            );
            continue;
        }
        if let StateBody::Fail { error, .. } = &decl.body {
            if error.value().trim().is_empty() {
                errors.at(error.span(), "a Fail state's error name cannot be empty");
            }
        }
        index_of.insert(name, states.len());
        states.push(StateModel { decl, next: None });
    }

    let state_names: Vec<String> = states
        .iter()
        .map(|state| state.decl.name.to_string())
        .collect();
    let resolve = |written: &'a Ident, allow_end: bool, errors: &mut Errors| -> Edge<'a> {
        let wanted = written.to_string();
        let target = if allow_end && wanted == END {
            Target::End
        } else if let Some(&index) = index_of.get(&wanted) {
            Target::State(index)
        } else {
            let likely = names::suggest(&wanted, state_names.iter().map(String::as_str));
            let hint = match likely {
                Some(close) => format!("; did you mean `{close}`?"),
                None if state_names.is_empty() => String::new(),
                None => format!("; the states are {}", list(&state_names)),
            };
            errors.at(written.span(), format!("unknown state `{wanted}`{hint}"));
            Target::Unknown {
                likely: likely.and_then(|close| index_of.get(close).copied()),
            }
        };
        Edge { target, written }
    };

    let mut start = None;
    for item in &ast.items {
        let Item::Start { keyword, target } = item else {
            continue;
        };
        if start.is_some() {
            errors.at(
                keyword.span(),
                "`start` is given more than once; a workflow has one start state",
            );
            continue;
        }
        start = Some(resolve(target, false, errors));
    }
    if start.is_none() {
        errors.at(
            ast.name.span(),
            format!(
                "workflow `{}` has no start state; add `start <State>;` to its body",
                ast.name
            ),
        );
    }
    for state in &mut states {
        if let StateBody::Task { next, .. } = &state.decl.body {
            state.next = Some(resolve(next, true, errors));
        }
    }

    let model = Model {
        ast,
        mode,
        start,
        states,
    };
    check_graph(&model, errors);
    model
}

fn check_mode(mode: &Ident, errors: &mut Errors) -> Mode {
    match mode.to_string().as_str() {
        "Standard" => Mode::Standard,
        "Express" => Mode::Express,
        other => {
            errors.at(
                mode.span(),
                format!(
                    "unknown workflow mode `{other}`: the modes are `Standard` and `Express`{}",
                    names::did_you_mean(other, ["Standard", "Express"])
                ),
            );
            Mode::Standard
        }
    }
}

fn check_name(name: &Ident, what: &str, errors: &mut Errors) {
    if let Some(problem) = names::name_problem(&name.to_string()) {
        errors.at(name.span(), format!("invalid {what} name: {problem}"));
    }
}

/// Unreachable states, and states from which no end can be reached.
fn check_graph(model: &Model<'_>, errors: &mut Errors) {
    let Some(start) = model.start else { return };
    let count = model.states.len();
    // A target we cannot even guess makes both checks unreliable; its error is enough.
    let guess = |target: Target| match target {
        Target::State(index)
        | Target::Unknown {
            likely: Some(index),
        } => Ok(Some(index)),
        Target::End => Ok(None),
        Target::Unknown { likely: None } => Err(()),
    };
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut ends = vec![false; count];
    for index in 0..count {
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

    let mut reachable = vec![false; count];
    let mut queue = VecDeque::from([start]);
    reachable[start] = true;
    while let Some(index) = queue.pop_front() {
        for &next in &successors[index] {
            if !std::mem::replace(&mut reachable[next], true) {
                queue.push_back(next);
            }
        }
    }

    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, nexts) in successors.iter().enumerate() {
        for &next in nexts {
            predecessors[next].push(index);
        }
    }
    let mut finishes = ends.clone();
    let mut queue: VecDeque<usize> = (0..count).filter(|&index| ends[index]).collect();
    while let Some(index) = queue.pop_front() {
        for &previous in &predecessors[index] {
            if !std::mem::replace(&mut finishes[previous], true) {
                queue.push_back(previous);
            }
        }
    }

    let start_name = &model.state(start).name;
    for index in 0..count {
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

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
