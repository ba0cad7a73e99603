//! The workflow's [`Definition`], built once, when the workflow compiles, from the checked
//! model: drawn into the type's documentation, and embedded in the generated code. What only
//! the Rust types tell (the full names of the input and output types, each step's own
//! description, the names an error type gives its variants) is left as the declaration spells
//! it, and the generated code completes it once per workflow type, at run time.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;
use workflow_core::build::{self, MapOptions, TaskOptions, Wait};
use workflow_core::retry::{Catcher, Jitter, Retrier};
use workflow_core::{embed, Definition};

use super::{expr_text, step_alias, type_text};
use crate::docs::doc_text;
use crate::private;
use crate::workflow::index::{Idx, ScopeIndex, StateIndex};
use crate::workflow::parse::{ErrorRef, FailText, StateBody, WaitFor};
use crate::workflow::validate::{ErrorModel, Model, StateModel, Target};

/// The definition as the declaration tells it.
pub(super) fn definition(model: &Model<'_>) -> Definition {
    let ast = model.ast;
    let comment = doc_text(&ast.attrs);
    let states = model
        .states
        .iter_enumerated()
        .map(|(index, state)| state_definition(model, index, state))
        .collect();
    let mut definition = build::definition(
        &ast.name.to_string(),
        model.mode,
        comment.as_deref(),
        model.timeout.map(|timeout| timeout.millis),
        &type_text(&ast.input),
        &type_text(&ast.output),
        target_raw(model.start.map(|edge| edge.target)).unwrap_or(0),
        states,
    );
    definition.version = model.version;
    definition
}

fn state_definition(
    model: &Model<'_>,
    index: StateIndex,
    state: &StateModel<'_>,
) -> workflow_core::definition::State {
    let decl = state.decl;
    let name = decl.name.to_string();
    let comment = doc_text(&decl.attrs);
    let comment = comment.as_deref();
    let next = target_raw(state.next.map(|edge| edge.target));
    let task = state.task.as_ref();
    match &decl.body {
        StateBody::Task { step, .. } => {
            // The step as its path names it; its type describes it at run time.
            let step_name = step
                .segments
                .last()
                .map(|segment| segment.ident.to_string())
                .unwrap_or_default();
            let step = build::step_definition(
                &step_name,
                &type_text(step),
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
            let (retry, catch) = handlers(model, index);
            let options = TaskOptions {
                timeout_ms: task.and_then(|task| task.timeout).map(|t| t.millis),
                heartbeat_ms: task.and_then(|task| task.heartbeat).map(|t| t.millis),
                timeout_function: task.and_then(|task| task.computed.timeout).map(expr_text),
                heartbeat_function: task.and_then(|task| task.computed.heartbeat).map(expr_text),
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
                        target_raw(Some(edge.target)).unwrap_or(0),
                    )
                })
                .collect();
            let default = choice
                .and_then(|choice| choice.default)
                .and_then(|edge| target_raw(Some(edge.target)));
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
                .map(|&scope| branch(model, scope))
                .collect();
            let (retry, catch) = handlers(model, index);
            build::parallel_state(&name, comment, branches, next, retry, catch)
        }
        StateBody::Map { items, .. } => {
            let iteration = state
                .iteration()
                .map_or_else(|| (0, Vec::new()), |scope| branch(model, scope));
            let (retry, catch) = handlers(model, index);
            let options = MapOptions {
                max_concurrency: task.and_then(|task| task.max_concurrency).unwrap_or(0),
                distributed: false,
                tolerated_failure_count: task.and_then(|task| task.tolerated_count),
                tolerated_failure_percentage: task.and_then(|task| task.tolerated_percentage),
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
            let (error, cause) = (fail_part(error.as_ref()), fail_part(cause.as_ref()));
            build::fail_state(&name, comment, error.text(), cause.text())
        }
    }
}

/// The state a transition goes to, as the definition numbers it; `None` for `end`.
fn target_raw(target: Option<Target>) -> Option<usize> {
    match target {
        Some(Target::State(index)) => Some(index.raw()),
        _ => None,
    }
}

/// `(start, states)` of a Parallel branch or Map iteration.
fn branch(model: &Model<'_>, scope: ScopeIndex) -> (usize, Vec<usize>) {
    let start = target_raw(model.scopes[scope].start.map(|edge| edge.target)).unwrap_or(0);
    let states = model.scopes[scope].states.iter().map(|index| index.raw());
    (start, states.collect())
}

/// The retriers and catchers of state `index`. An error named by its Rust path is spelled as
/// the runtime spells it by default (`Type.Variant`; `Type.*` for every variant), until the
/// generated code puts the names its type gives in its place.
fn handlers(model: &Model<'_>, index: StateIndex) -> (Vec<Retrier>, Vec<Catcher>) {
    let Some(task) = model.states[index].task.as_ref() else {
        return (Vec::new(), Vec::new());
    };
    let names = |errors: &[ErrorModel<'_>]| errors.iter().map(spelled_name).collect();
    let retry = task
        .retries
        .iter()
        .map(|retry| {
            let retrier = build::retrier(
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
            );
            match retry.unchecked {
                true => build::unchecked_retrier(retrier),
                false => retrier,
            }
        })
        .collect();
    let catch = task
        .catches
        .iter()
        .map(|catch| {
            let next = target_raw(Some(catch.edge.target)).unwrap_or(0);
            let catcher = build::catcher(names(&catch.errors), next);
            match catch.unchecked {
                true => build::unchecked_catcher(catcher),
                false => catcher,
            }
        })
        .collect();
    (retry, catch)
}

fn spelled_name(error: &ErrorModel<'_>) -> String {
    match error {
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
    }
}

/// A Fail state's error name or cause: given, or computed by a function (as written).
enum FailPart {
    None,
    Given(String),
    Computed(String),
}

impl FailPart {
    fn text(&self) -> build::FailText<'_> {
        match self {
            FailPart::None => build::FailText::None,
            FailPart::Given(text) => build::FailText::Given(text),
            FailPart::Computed(function) => build::FailText::Computed(function),
        }
    }
}

fn fail_part(part: Option<&FailText>) -> FailPart {
    match part {
        None => FailPart::None,
        Some(FailText::Given(text)) => FailPart::Given(text.value()),
        Some(FailText::Computed(function)) => FailPart::Computed(expr_text(function)),
    }
}

/// The expression building the runtime definition: `definition` embedded, completed with what
/// the types tell.
/// `tasks` names the table of the task states' steps.
pub(super) fn embedded(model: &Model<'_>, definition: &Definition, tasks: &Ident) -> TokenStream {
    let p = private::path();
    let json = match embed::encode(definition) {
        Ok(json) => json,
        Err(error) => {
            let message = format!("cannot embed the workflow's definition: {error}");
            return syn::Error::new(Span::call_site(), message).to_compile_error();
        }
    };
    let mut definition = definition.clone();
    let fractions: Vec<f64> = embed::fractions(&mut definition)
        .into_iter()
        .map(|fraction| *fraction)
        .collect();
    let error_names = typed_error_names(model);
    let (input, output) = (&model.ast.input, &model.ast.output);
    quote! {
        #p::embedded_definition::<#input, #output>(#p::EmbeddedDefinition {
            json: #json,
            fractions: &[#(#fractions),*],
            steps: #tasks,
            error_names: &[#(#error_names),*],
        })
    }
}

/// For every error a `retry`/`catch` clause names by its Rust path, where it is and the
/// function giving the names its type gives it.
fn typed_error_names(model: &Model<'_>) -> Vec<TokenStream> {
    let p = private::path();
    let mut typed = Vec::new();
    for (index, state) in model.states.iter_enumerated() {
        let Some(task) = state.task.as_ref() else {
            continue;
        };
        let retriers = task
            .retries
            .iter()
            .enumerate()
            .map(|(number, retry)| (quote!(#p::Handler::Retrier(#number)), &retry.errors));
        let catchers = task
            .catches
            .iter()
            .enumerate()
            .map(|(number, catch)| (quote!(#p::Handler::Catcher(#number)), &catch.errors));
        for (handler, errors) in retriers.chain(catchers) {
            for (position, error) in errors.iter().enumerate() {
                let names = match error {
                    ErrorModel::Variant(written) => {
                        let error = error_type(model, index, written);
                        let variant = written.last().to_string();
                        quote!(#p::ErrorNames::Variant(#p::variant_error_name::<#error>, #variant))
                    }
                    ErrorModel::AllOf(written) => {
                        let error = error_type(model, index, written);
                        quote!(#p::ErrorNames::All(#p::all_error_names::<#error>))
                    }
                    _ => continue,
                };
                typed.push(quote! {
                    #p::ErrorNamesAt { state: #index, handler: #handler, position: #position, names: #names }
                });
            }
        }
    }
    typed
}

/// The error type whose names the `retry`/`catch` clauses of state `index` use: the step's
/// error for a task; for a Parallel or Map state, the type each clause names.
fn error_type(model: &Model<'_>, index: StateIndex, written: &ErrorRef) -> TokenStream {
    let p = private::path();
    match model.state(index).body {
        StateBody::Task { .. } => {
            let step = step_alias(model, index);
            quote!(<#step as #p::Step>::Error)
        }
        _ => written.error_type(),
    }
}
