//! Checks of a definition as a whole, once each state has been read: every transition names a
//! state of its own graph (a Parallel branch or a Map's processor is a graph of its own), and
//! every state can be reached from `StartAt`.

use std::collections::{HashMap, HashSet, VecDeque};

use super::fields::Problems;
use super::problem::did_you_mean;
use super::{Graph, StateKind, StateMachine, Transition};
use crate::pointer::Pointer;

pub(super) fn machine(machine: &StateMachine, problems: &mut Problems) {
    graph(&machine.graph, &Pointer::root(), problems);
    let mut seen = HashMap::new();
    unique_names(&machine.graph, &Pointer::root(), &mut seen, problems);
}

/// State names are unique across the whole machine, branches and processors included: the
/// history names states, not places.
fn unique_names<'g>(
    graph: &'g Graph,
    at: &Pointer,
    seen: &mut HashMap<&'g str, Pointer>,
    problems: &mut Problems,
) {
    let states_at = at.field("States");
    for state in &graph.states {
        let here = states_at.field(&state.name);
        match seen.get(state.name.as_str()) {
            Some(first) => problems.add(
                &here,
                format!("the state name \"{}\" is also used at {first}: names are unique across the machine", state.name),
            ),
            None => {
                seen.insert(&state.name, here.clone());
            }
        }
        match &state.kind {
            StateKind::Parallel(parallel) => {
                for (i, branch) in parallel.branches.iter().enumerate() {
                    unique_names(branch, &here.field("Branches").index(i), seen, problems);
                }
            }
            StateKind::Map(map) => {
                let processor = if map.written_as_iterator {
                    "Iterator"
                } else {
                    "ItemProcessor"
                };
                unique_names(&map.processor, &here.field(processor), seen, problems);
            }
            _ => {}
        }
    }
}

/// A transition: from a state (`None` for `StartAt`) to a state's name, written at a pointer.
struct Edge<'g> {
    from: Option<&'g str>,
    to: &'g str,
    at: Pointer,
}

fn graph(graph: &Graph, at: &Pointer, problems: &mut Problems) {
    let states_at = at.field("States");
    let mut edges = vec![Edge {
        from: None,
        to: &graph.start_at,
        at: at.field("StartAt"),
    }];
    for state in &graph.states {
        let here = states_at.field(&state.name);
        let from = Some(state.name.as_str());
        if let Some(Transition::Next(next)) = &state.transition {
            edges.push(Edge {
                from,
                to: next,
                at: here.field("Next"),
            });
        }
        let catch = match &state.kind {
            StateKind::Task(task) => &task.shaping.catch[..],
            StateKind::Parallel(parallel) => &parallel.shaping.catch[..],
            StateKind::Map(map) => &map.shaping.catch[..],
            _ => &[],
        };
        for (i, catcher) in catch.iter().enumerate() {
            let at = here.field("Catch").index(i).field("Next");
            edges.push(Edge {
                from,
                to: &catcher.next,
                at,
            });
        }
        match &state.kind {
            StateKind::Choice(choice) => {
                for (i, rule) in choice.choices.iter().enumerate() {
                    let at = here.field("Choices").index(i).field("Next");
                    edges.push(Edge {
                        from,
                        to: &rule.next,
                        at,
                    });
                }
                if let Some(default) = &choice.default {
                    edges.push(Edge {
                        from,
                        to: default,
                        at: here.field("Default"),
                    });
                }
            }
            StateKind::Parallel(parallel) => {
                for (i, branch) in parallel.branches.iter().enumerate() {
                    self::graph(branch, &here.field("Branches").index(i), problems);
                }
            }
            StateKind::Map(map) => {
                let processor = if map.written_as_iterator {
                    "Iterator"
                } else {
                    "ItemProcessor"
                };
                self::graph(&map.processor, &here.field(processor), problems);
            }
            _ => {}
        }
    }

    let names: HashSet<&str> = graph
        .states
        .iter()
        .map(|state| state.name.as_str())
        .collect();
    let mut next: HashMap<Option<&str>, Vec<&str>> = HashMap::new();
    for edge in &edges {
        if names.contains(edge.to) {
            next.entry(edge.from).or_default().push(edge.to);
        } else {
            problems.add(
                &edge.at,
                format!(
                    "unknown state \"{}\"{}",
                    edge.to,
                    did_you_mean(edge.to, names.iter().copied())
                ),
            );
        }
    }

    let mut reached: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<Option<&str>> = VecDeque::from([None]);
    while let Some(from) = queue.pop_front() {
        for to in next.get(&from).into_iter().flatten() {
            if reached.insert(to) {
                queue.push_back(Some(to));
            }
        }
    }
    for state in &graph.states {
        if !reached.contains(state.name.as_str()) {
            problems.add(
                &states_at.field(&state.name),
                format!(
                    "the state \"{}\" cannot be reached from StartAt",
                    state.name
                ),
            );
        }
    }
}
