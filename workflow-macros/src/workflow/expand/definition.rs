//! The runtime `Definition` of a workflow, and the documentation of the generated type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{expr_text, option_function, option_str, option_u64, step_alias, type_text};
use crate::docs::doc_text;
use crate::private;
use crate::workflow::index::{Idx, ScopeIndex, StateIndex};
use crate::workflow::parse::{ErrorRef, FailText, StateBody, WaitFor};
use crate::workflow::validate::{ErrorModel, Model, Target, TaskModel};

fn task_model<'m>(model: &'m Model<'_>, index: StateIndex) -> Option<&'m TaskModel<'m>> {
    model.states[index].task.as_ref()
}

/// The expression building the workflow's `Definition`.
pub(super) fn definition(model: &Model<'_>) -> TokenStream {
    let p = private::path();
    let ast = model.ast;
    let name = ast.name.to_string();
    let input = &ast.input;
    let output = &ast.output;
    let mode = format_ident!("{}", model.mode.name());
    let mode = quote!(#p::Mode::#mode);
    let comment = option_str(doc_text(&ast.attrs));
    let timeout = option_u64(model.timeout.map(|timeout| timeout.millis));
    let start = match model.start.map(|edge| edge.target) {
        Some(Target::State(index)) => index.raw(),
        _ => 0,
    };
    let states = model.states.iter_enumerated().map(|(index, state)| {
        let decl = state.decl;
        let state_name = decl.name.to_string();
        let comment = option_str(doc_text(&decl.attrs));
        match &decl.body {
            StateBody::Task { .. } => {
                let step = step_alias(model, index);
                let next = next_of(state.next.map(|edge| edge.target));
                let options = task_options(model, index);
                quote!(#p::task_state::<#step>(#state_name, #comment, #next, #options))
            }
            StateBody::Choice { rules, .. } => {
                let choice = state.choice.as_ref();
                let rules = rules
                    .iter()
                    .zip(choice.into_iter().flat_map(|choice| choice.rules.iter()))
                    .map(|(rule, edge)| {
                        let condition = expr_text(&rule.predicate);
                        let next = index_of(edge.target);
                        quote!((#condition, #next))
                    });
                let default = match choice.and_then(|choice| choice.default) {
                    Some(edge) => {
                        let default = index_of(edge.target);
                        quote!(::core::option::Option::Some(#default))
                    }
                    None => quote!(::core::option::Option::None),
                };
                quote!(#p::choice_state(#state_name, #comment, ::std::vec![#(#rules),*], #default))
            }
            StateBody::Wait { wait, .. } => {
                let wait = match wait {
                    WaitFor::Duration(duration) => {
                        let millis = duration.millis;
                        quote!(#p::Wait::Millis(#millis))
                    }
                    WaitFor::Until(selector) => {
                        let selector = expr_text(selector);
                        quote!(#p::Wait::Until(#selector))
                    }
                    WaitFor::DurationFrom(function) => {
                        let function = expr_text(function);
                        quote!(#p::Wait::DurationFrom(#function))
                    }
                };
                let next = next_of(state.next.map(|edge| edge.target));
                quote!(#p::wait_state(#state_name, #comment, #wait, #next))
            }
            StateBody::Pass { transform, .. } => {
                let transform = option_str(transform.as_ref().map(expr_text));
                let next = next_of(state.next.map(|edge| edge.target));
                quote!(#p::pass_state(#state_name, #comment, #transform, #next))
            }
            StateBody::Parallel { .. } => {
                let branches = state.branches.iter().map(|&scope| scope_tuple(model, scope));
                let next = next_of(state.next.map(|edge| edge.target));
                let (retry, catch) = policies(model, index);
                quote!(#p::parallel_state(#state_name, #comment, ::std::vec![#(#branches),*], #next, #retry, #catch))
            }
            StateBody::Map { items, .. } => {
                let items = expr_text(items);
                let iteration = scope_tuple(model, state.iteration().unwrap_or(ScopeIndex::TOP));
                let next = next_of(state.next.map(|edge| edge.target));
                let (retry, catch) = policies(model, index);
                let task = task_model(model, index);
                let max_concurrency = task.and_then(|task| task.max_concurrency).unwrap_or(0);
                let count = match task.and_then(|task| task.tolerated_count) {
                    Some(count) => quote!(::core::option::Option::Some(#count)),
                    None => quote!(::core::option::Option::None),
                };
                let percentage = match task.and_then(|task| task.tolerated_percentage) {
                    Some(share) => quote!(::core::option::Option::Some(#share)),
                    None => quote!(::core::option::Option::None),
                };
                let computed = task.map(|task| task.computed).unwrap_or_default();
                let max_concurrency_function = option_function(computed.max_concurrency);
                let count_function = option_function(computed.tolerated_count);
                let percentage_function = option_function(computed.tolerated_percentage);
                quote!(#p::map_state(#state_name, #comment, #items, #iteration, #next, #p::MapOptions {
                    max_concurrency: #max_concurrency,
                    tolerated_failure_count: #count,
                    tolerated_failure_percentage: #percentage,
                    max_concurrency_function: #max_concurrency_function,
                    tolerated_failure_count_function: #count_function,
                    tolerated_failure_percentage_function: #percentage_function,
                    retry: #retry,
                    catch: #catch,
                }))
            }
            StateBody::Succeed => quote!(#p::succeed_state(#state_name, #comment)),
            StateBody::Fail { error, cause } => {
                let part = |part: &Option<FailText>| match part {
                    None => quote!(#p::FailText::None),
                    Some(FailText::Given(text)) => quote!(#p::FailText::Given(#text)),
                    Some(FailText::Computed(function)) => {
                        let function = expr_text(function);
                        quote!(#p::FailText::Computed(#function))
                    }
                };
                let (error, cause) = (part(error), part(cause));
                quote!(#p::fail_state(#state_name, #comment, #error, #cause))
            }
        }
    });
    quote! {
        #p::definition::<#input, #output>(#name, #mode, #comment, #timeout, #start, ::std::vec![#(#states),*])
    }
}

/// `Some(index)` of a transition's target state, `None` for `end`.
fn next_of(target: Option<Target>) -> TokenStream {
    match target {
        Some(Target::State(next)) => quote!(::core::option::Option::Some(#next)),
        _ => quote!(::core::option::Option::None),
    }
}

/// The index of a transition's target state (0 for a target that does not resolve, which
/// only happens in code that is not compiled).
fn index_of(target: Target) -> usize {
    match target {
        Target::State(index) => index.raw(),
        _ => 0,
    }
}

/// The error type whose names `retry`/`catch` clauses of state `index` use: the step's
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

/// `(retriers, catchers)` of a task, parallel or map state, as vectors.
fn policies(model: &Model<'_>, index: StateIndex) -> (TokenStream, TokenStream) {
    let p = private::path();
    let Some(task) = task_model(model, index) else {
        return (
            quote!(::std::vec::Vec::new()),
            quote!(::std::vec::Vec::new()),
        );
    };
    let error_list = |errors: &[ErrorModel<'_>]| {
        let pushes = errors.iter().map(|error| match error {
            ErrorModel::Predefined { name, .. } => {
                quote!(errors.push(::std::string::String::from(#name));)
            }
            ErrorModel::Named(name) | ErrorModel::Unchecked(name) => {
                quote!(errors.push(::std::string::String::from(#name));)
            }
            ErrorModel::Variant(written) => {
                let variant = written.last().to_string();
                let error = error_type(model, index, written);
                quote!(errors.push(#p::variant_error_name::<#error>(#variant));)
            }
            ErrorModel::AllOf(written) => {
                let error = error_type(model, index, written);
                quote!(errors.extend(#p::all_error_names::<#error>());)
            }
        });
        quote!({
            let mut errors = ::std::vec::Vec::new();
            #(#pushes)*
            errors
        })
    };
    let retriers = task.retries.iter().map(|retry| {
        let errors = error_list(&retry.errors);
        let interval = option_u64(retry.interval_ms);
        let max_attempts = match retry.max_attempts {
            Some(count) => quote!(::core::option::Option::Some(#count)),
            None => quote!(::core::option::Option::None),
        };
        let backoff = match retry.backoff_rate {
            Some(rate) => quote!(::core::option::Option::Some(#rate)),
            None => quote!(::core::option::Option::None),
        };
        let max_delay = option_u64(retry.max_delay_ms);
        let jitter = if retry.full_jitter {
            quote!(#p::Jitter::Full)
        } else {
            quote!(#p::Jitter::None)
        };
        let retrier =
            quote!(#p::retrier(#errors, #interval, #max_attempts, #backoff, #max_delay, #jitter));
        if retry.unchecked {
            quote!(#p::unchecked_retrier(#retrier))
        } else {
            retrier
        }
    });
    let catchers = task.catches.iter().map(|catch| {
        let errors = error_list(&catch.errors);
        let next = index_of(catch.edge.target);
        if catch.unchecked {
            quote!(#p::unchecked_catcher(#p::catcher(#errors, #next)))
        } else {
            quote!(#p::catcher(#errors, #next))
        }
    });
    (
        quote!(::std::vec![#(#retriers),*]),
        quote!(::std::vec![#(#catchers),*]),
    )
}

/// The `TaskOptions` expression of task state `index`.
fn task_options(model: &Model<'_>, index: StateIndex) -> TokenStream {
    let p = private::path();
    let Some(task) = task_model(model, index) else {
        return quote!(::core::default::Default::default());
    };
    let (retry, catch) = policies(model, index);
    let timeout = option_u64(task.timeout.map(|timeout| timeout.millis));
    let heartbeat = option_u64(task.heartbeat.map(|heartbeat| heartbeat.millis));
    let timeout_function = option_function(task.computed.timeout);
    let heartbeat_function = option_function(task.computed.heartbeat);
    quote! {
        #p::TaskOptions {
            timeout_ms: #timeout,
            heartbeat_ms: #heartbeat,
            timeout_function: #timeout_function,
            heartbeat_function: #heartbeat_function,
            retry: #retry,
            catch: #catch,
        }
    }
}

/// `(start, states)` of a scope.
fn scope_tuple(model: &Model<'_>, scope: ScopeIndex) -> TokenStream {
    let start = index_of(
        model.scopes[scope]
            .start
            .map_or(Target::End, |edge| edge.target),
    );
    let states = &model.scopes[scope].states;
    quote!((#start, ::std::vec![#(#states),*]))
}

/// The paragraph appended to the workflow type's docs: mode, types and states.
pub(super) fn generated_doc(model: &Model<'_>) -> String {
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
