//! What the generated type's documentation adds to the user's: the workflow's mode, types and
//! states, and its diagram.

use workflow_core::{render, Definition};

use super::{expr_text, type_text};
use crate::workflow::index::ScopeIndex;
use crate::workflow::parse::{FailText, StateBody, WaitFor};
use crate::workflow::validate::{ErrorModel, Model, Target};

/// The section holding the diagram of `definition`, drawn as inline SVG: no script, no
/// network, so it shows offline.
pub(super) fn diagram_doc(definition: &Definition) -> String {
    let svg = render::svg(definition);
    // A `<div>` opens an HTML block that lasts until a blank line; the SVG has none.
    format!(
        "\n\n# Diagram\n\n<div style=\"overflow-x: auto\">\n{}</div>\n",
        svg.trim_end()
    )
}

/// The section appended to the workflow type's docs: mode, types and states.
pub(super) fn states_doc(model: &Model<'_>) -> String {
    let ast = model.ast;
    let mode = model.mode.name();
    let mut doc = format!(
        "\n\nA **{mode}** workflow from `{}` to `{}`, declared with `workflow!`.\n\n# States\n",
        type_text(&ast.input),
        type_text(&ast.output),
    );
    if !model.scopes.is_empty() {
        scope_doc(model, ScopeIndex::TOP, 0, &mut doc);
    }
    doc
}

/// The bullet list of a scope's states, branches indented below their state.
fn scope_doc(model: &Model<'_>, scope: ScopeIndex, depth: usize, doc: &mut String) {
    let indent = "  ".repeat(depth);
    let start = model.scopes[scope].start.map(|edge| edge.target);
    for &index in &model.scopes[scope].states {
        let state = &model.states[index];
        let decl = state.decl;
        let marker = if start == Some(Target::State(index)) {
            " (start)"
        } else {
            ""
        };
        let mut body = match &decl.body {
            StateBody::Task { step, next, .. } => {
                format!("task `{}` → `{next}`", type_text(step))
            }
            StateBody::Choice { rules, default, .. } => {
                let mut text = String::from("choice");
                for rule in rules {
                    text.push_str(&format!(
                        "; `{}` → `{}`",
                        expr_text(&rule.predicate),
                        rule.target
                    ));
                }
                if let Some(default) = default {
                    text.push_str(&format!("; otherwise → `{default}`"));
                }
                text
            }
            StateBody::Wait { wait, next, .. } => match wait {
                WaitFor::Duration(duration) => {
                    format!("wait {} → `{next}`", humantime_text(duration.millis))
                }
                WaitFor::Until(selector) => {
                    format!("wait until `{}` → `{next}`", expr_text(selector))
                }
                WaitFor::DurationFrom(function) => {
                    format!("wait for `{}` → `{next}`", expr_text(function))
                }
            },
            StateBody::Pass {
                transform, next, ..
            } => match transform {
                Some(transform) => format!("pass through `{}` → `{next}`", expr_text(transform)),
                None => format!("pass → `{next}`"),
            },
            StateBody::Parallel { branches, next, .. } => match branches.len() {
                1 => format!("parallel, 1 branch → `{next}`"),
                count => format!("parallel, {count} branches → `{next}`"),
            },
            StateBody::Map { items, next, .. } => {
                format!("map over `{}` → `{next}`", expr_text(items))
            }
            StateBody::Succeed => "succeed".to_owned(),
            StateBody::Fail { error, .. } => match error {
                Some(FailText::Given(error)) => format!("fail with `{}`", error.value()),
                Some(FailText::Computed(function)) => {
                    format!("fail with the error `{}` computes", expr_text(function))
                }
                None => "fail".to_owned(),
            },
        };
        if let Some(task) = &state.task {
            for retry in &task.retries {
                body.push_str(&format!("; retry {}", error_names(&retry.errors)));
            }
            for catch in &task.catches {
                body.push_str(&format!(
                    "; catch {} → `{}`",
                    error_names(&catch.errors),
                    catch.edge.written
                ));
            }
        }
        doc.push_str(&format!("{indent}- `{}`{marker}: {body}\n", decl.name));
        for (number, &branch) in state.branches.iter().enumerate() {
            if matches!(decl.body, StateBody::Parallel { .. }) {
                doc.push_str(&format!("{indent}  - branch {number}:\n"));
                scope_doc(model, branch, depth + 2, doc);
            } else {
                scope_doc(model, branch, depth + 1, doc);
            }
        }
    }
}

fn humantime_text(millis: u64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(millis)).to_string()
}

fn error_names(errors: &[ErrorModel<'_>]) -> String {
    errors
        .iter()
        .map(|error| match error {
            ErrorModel::Predefined { name, .. } => format!("`{name}`"),
            ErrorModel::Named(name) => format!("`{}`", name.value()),
            ErrorModel::Unchecked(name) => format!("unchecked `{}`", name.value()),
            ErrorModel::Variant(written) | ErrorModel::AllOf(written) => {
                format!("`{}`", written.text())
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
