//! The workflow's picture in its rustdoc: a [`Definition`] sketched from the declaration
//! alone (what rustc resolves later, such as a step's own timeout or an error type's custom
//! names, is not known here), drawn as inline SVG. No script, no network: it shows offline.

use workflow_core::build::{self, MapOptions, TaskOptions, Wait};
use workflow_core::retry::{Catcher, Jitter, Retrier};
use workflow_core::{render, Definition};

use super::{expr_text, type_text};
use crate::docs::doc_text;
use crate::workflow::index::{Idx, ScopeIndex, StateIndex};
use crate::workflow::parse::{FailText, StateBody, WaitFor};
use crate::workflow::validate::{ErrorModel, Model, Target};

/// The Markdown section holding the diagram.
pub(super) fn diagram_doc(model: &Model<'_>) -> String {
    let svg = render::svg(&sketch(model));
    // A `<div>` opens an HTML block that lasts until a blank line; the SVG has none.
    format!(
        "\n\n# Diagram\n\n<div style=\"overflow-x: auto\">\n{}</div>\n",
        svg.trim_end()
    )
}

fn target_index(target: Option<Target>) -> Option<usize> {
    match target {
        Some(Target::State(index)) => Some(index.raw()),
        _ => None,
    }
}

/// The definition as far as the declaration tells it.
fn sketch(model: &Model<'_>) -> Definition {
    let ast = model.ast;
    let mode = model.mode;
    let comment = doc_text(&ast.attrs);
    let states = model
        .states
        .iter_enumerated()
        .map(|(index, state)| {
            let decl = state.decl;
            let name = decl.name.to_string();
            let comment = doc_text(&decl.attrs);
            let comment = comment.as_deref();
            let next = target_index(state.next.map(|edge| edge.target));
            match &decl.body {
                StateBody::Task { step, .. } => {
                    let step_name = step
                        .segments
                        .last()
                        .map(|segment| segment.ident.to_string())
                        .unwrap_or_default();
                    let function = type_text(step);
                    let step = build::step_definition(
                        &step_name,
                        &function,
                        None,
                        "",
                        "",
                        "",
                        Vec::new(),
                        false,
                        None,
                        None,
                        Vec::new(),
                    );
                    let (retry, catch) = policies(model, index);
                    let task = state.task.as_ref();
                    let options = TaskOptions {
                        timeout_ms: task.and_then(|task| task.timeout).map(|t| t.millis),
                        heartbeat_ms: task.and_then(|task| task.heartbeat).map(|t| t.millis),
                        timeout_function: task
                            .and_then(|task| task.computed.timeout)
                            .map(expr_text),
                        heartbeat_function: task
                            .and_then(|task| task.computed.heartbeat)
                            .map(expr_text),
                        retry,
                        catch,
                    };
                    build::task_state(&name, comment, step, next, options)
                }
                StateBody::Choice { rules, .. } => {
                    let choice = state.choice.as_ref();
                    let conditions: Vec<String> = rules
                        .iter()
                        .map(|rule| expr_text(&rule.predicate))
                        .collect();
                    let targets = conditions
                        .iter()
                        .zip(choice.into_iter().flat_map(|choice| choice.rules.iter()))
                        .map(|(condition, edge)| {
                            (
                                condition.as_str(),
                                target_index(Some(edge.target)).unwrap_or(0),
                            )
                        })
                        .collect();
                    let default = choice
                        .and_then(|choice| choice.default)
                        .and_then(|edge| target_index(Some(edge.target)));
                    build::choice_state(&name, comment, targets, default)
                }
                StateBody::Wait { wait, .. } => match wait {
                    WaitFor::Duration(duration) => {
                        build::wait_state(&name, comment, Wait::Millis(duration.millis), next)
                    }
                    WaitFor::Until(selector) => {
                        let selector = expr_text(selector);
                        build::wait_state(&name, comment, Wait::Until(&selector), next)
                    }
                    WaitFor::DurationFrom(function) => {
                        let function = expr_text(function);
                        build::wait_state(&name, comment, Wait::DurationFrom(&function), next)
                    }
                },
                StateBody::Pass { transform, .. } => {
                    let transform = transform.as_ref().map(expr_text);
                    build::pass_state(&name, comment, transform.as_deref(), next)
                }
                StateBody::Parallel { .. } => {
                    let branches = state
                        .branches
                        .iter()
                        .map(|&scope| scope_of(model, scope))
                        .collect();
                    let (retry, catch) = policies(model, index);
                    build::parallel_state(&name, comment, branches, next, retry, catch)
                }
                StateBody::Map { items, .. } => {
                    let iteration = scope_of(model, state.iteration().unwrap_or(ScopeIndex::TOP));
                    let (retry, catch) = policies(model, index);
                    let task = state.task.as_ref();
                    let options = MapOptions {
                        max_concurrency: task.and_then(|task| task.max_concurrency).unwrap_or(0),
                        tolerated_failure_count: task.and_then(|task| task.tolerated_count),
                        tolerated_failure_percentage: task
                            .and_then(|task| task.tolerated_percentage),
                        max_concurrency_function: task
                            .and_then(|task| task.computed.max_concurrency)
                            .map(expr_text),
                        tolerated_failure_count_function: task
                            .and_then(|task| task.computed.tolerated_count)
                            .map(expr_text),
                        tolerated_failure_percentage_function: task
                            .and_then(|task| task.computed.tolerated_percentage)
                            .map(expr_text),
                        retry,
                        catch,
                    };
                    build::map_state(&name, comment, &expr_text(items), iteration, next, options)
                }
                StateBody::Succeed => build::succeed_state(&name, comment),
                StateBody::Fail { error, cause } => {
                    let text = |part: &Option<FailText>| match part {
                        None => (None, None),
                        Some(FailText::Given(text)) => (Some(text.value()), None),
                        Some(FailText::Computed(function)) => (None, Some(expr_text(function))),
                    };
                    let (error, cause) = (text(error), text(cause));
                    build::fail_state(&name, comment, fail_part(&error), fail_part(&cause))
                }
            }
        })
        .collect();
    let start = target_index(model.start.map(|edge| edge.target)).unwrap_or(0);
    build::definition(
        &ast.name.to_string(),
        mode,
        comment.as_deref(),
        model.timeout.map(|timeout| timeout.millis),
        &type_text(&ast.input),
        &type_text(&ast.output),
        start,
        states,
    )
}

/// `(start, states)` of a scope.
fn scope_of(model: &Model<'_>, scope: ScopeIndex) -> (usize, Vec<usize>) {
    let start = target_index(model.scopes[scope].start.map(|edge| edge.target)).unwrap_or(0);
    let states = model.scopes[scope].states.iter().map(|index| index.raw());
    (start, states.collect())
}

/// The retriers and catchers of state `index`, with error names as the runtime spells them
/// by default (`Type.Variant`; `Type.*` for every variant).
fn policies(model: &Model<'_>, index: StateIndex) -> (Vec<Retrier>, Vec<Catcher>) {
    let Some(task) = model.states[index].task.as_ref() else {
        return (Vec::new(), Vec::new());
    };
    let names = |errors: &[ErrorModel<'_>]| -> Vec<String> {
        errors
            .iter()
            .map(|error| match error {
                ErrorModel::Predefined { name, .. } => (*name).to_owned(),
                ErrorModel::Named(name) | ErrorModel::Unchecked(name) => name.value(),
                ErrorModel::Variant(written) => {
                    let segments = &written.segments;
                    match segments.len() {
                        0 | 1 => written.text(),
                        len => format!("{}.{}", segments[len - 2], segments[len - 1]),
                    }
                }
                ErrorModel::AllOf(written) => format!("{}.*", written.last()),
            })
            .collect()
    };
    let retry = task
        .retries
        .iter()
        .map(|retry| {
            build::retrier(
                names(&retry.errors),
                retry.interval_ms,
                retry.max_attempts,
                retry.backoff_rate,
                retry.max_delay_ms,
                if retry.full_jitter {
                    Jitter::Full
                } else {
                    Jitter::None
                },
            )
        })
        .collect();
    let catch = task
        .catches
        .iter()
        .map(|catch| {
            build::catcher(
                names(&catch.errors),
                target_index(Some(catch.edge.target)).unwrap_or(0),
            )
        })
        .collect();
    (retry, catch)
}

/// A Fail state's error name or cause as `(given, computing function)`, for the definition.
fn fail_part((given, computed): &(Option<String>, Option<String>)) -> build::FailText<'_> {
    match (given, computed) {
        (Some(given), _) => build::FailText::Given(given),
        (None, Some(computed)) => build::FailText::Computed(computed),
        (None, None) => build::FailText::None,
    }
}
