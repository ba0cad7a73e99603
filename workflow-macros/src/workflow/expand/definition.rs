//! The runtime `Definition` of a workflow, and the documentation of the generated type.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Ident;

use super::{expr_text, option_str, option_u64, private, step_alias, tidy};
use crate::docs::doc_text;
use crate::workflow::parse::{StateBody, WaitFor};
use crate::workflow::validate::{ErrorModel, Mode, Model, Target, TaskModel};

fn task_model<'m>(model: &'m Model<'_>, index: usize) -> Option<&'m TaskModel<'m>> {
    model.states[index].task.as_ref()
}

/// The expression building the workflow's `Definition`.
pub(super) fn definition(model: &Model<'_>) -> TokenStream {
    let p = private();
    let ast = model.ast;
    let name = ast.name.to_string();
    let input = &ast.input;
    let output = &ast.output;
    let mode = match model.mode {
        Mode::Standard => quote!(#p::Mode::Standard),
        Mode::Express => quote!(#p::Mode::Express),
    };
    let comment = option_str(doc_text(&ast.attrs));
    let timeout = option_u64(model.timeout.map(|timeout| timeout.millis));
    let start = match model.start.map(|edge| edge.target) {
        Some(Target::State(index)) => index,
        _ => 0,
    };
    let states = model.states.iter().enumerate().map(|(index, state)| {
        let decl = state.decl;
        let state_name = decl.name.to_string();
        let comment = option_str(doc_text(&decl.attrs));
        match &decl.body {
            StateBody::Task { .. } => {
                let step = step_alias(model, index);
                let next = next_of(state.next.map(|edge| edge.target));
                let options = task_options(model, index, &step);
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
                let default = index_of(
                    choice
                        .and_then(|choice| choice.default)
                        .map_or(Target::End, |edge| edge.target),
                );
                quote!(#p::choice_state(#state_name, #comment, ::std::vec![#(#rules),*], #default))
            }
            StateBody::Wait { wait, .. } => {
                let (millis, until) = match wait {
                    WaitFor::Duration(duration) => (Some(duration.millis), None),
                    WaitFor::Until(selector) => (None, Some(expr_text(selector))),
                };
                let millis = option_u64(millis);
                let until = option_str(until);
                let next = next_of(state.next.map(|edge| edge.target));
                quote!(#p::wait_state(#state_name, #comment, #millis, #until, #next))
            }
            StateBody::Pass { transform, .. } => {
                let transform = option_str(transform.as_ref().map(expr_text));
                let next = next_of(state.next.map(|edge| edge.target));
                quote!(#p::pass_state(#state_name, #comment, #transform, #next))
            }
            StateBody::Succeed => quote!(#p::succeed_state(#state_name, #comment)),
            StateBody::Fail { error, cause } => {
                let cause = option_str(cause.as_ref().map(syn::LitStr::value));
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
        Target::State(index) => index,
        _ => 0,
    }
}

/// The `TaskOptions` expression of task state `index`.
fn task_options(model: &Model<'_>, index: usize, step: &Ident) -> TokenStream {
    let p = private();
    let Some(task) = task_model(model, index) else {
        return quote!(::core::default::Default::default());
    };
    let error_list = |errors: &[ErrorModel<'_>]| {
        let pushes = errors.iter().map(|error| match error {
            ErrorModel::Predefined { name, .. } => {
                quote!(errors.push(::std::string::String::from(#name));)
            }
            ErrorModel::Variant(written) => {
                let variant = written.last().to_string();
                quote!(errors.push(#p::variant_error_name::<<#step as #p::Step>::Error>(#variant));)
            }
            ErrorModel::AllOf(_) => {
                quote!(errors.extend(#p::all_error_names::<<#step as #p::Step>::Error>());)
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
        quote!(#p::retrier(#errors, #interval, #max_attempts, #backoff, #max_delay, #jitter))
    });
    let catchers = task.catches.iter().map(|catch| {
        let errors = error_list(&catch.errors);
        let next = match catch.edge.target {
            Target::State(next) => next,
            _ => 0,
        };
        quote!(#p::catcher(#errors, #next))
    });
    let timeout = option_u64(task.timeout.map(|timeout| timeout.millis));
    let heartbeat = option_u64(task.heartbeat.map(|heartbeat| heartbeat.millis));
    quote! {
        #p::TaskOptions {
            timeout_ms: #timeout,
            heartbeat_ms: #heartbeat,
            retry: ::std::vec![#(#retriers),*],
            catch: ::std::vec![#(#catchers),*],
        }
    }
}

/// The paragraph appended to the workflow type's docs: mode, types and states.
pub(super) fn generated_doc(model: &Model<'_>) -> String {
    let ast = model.ast;
    let mode = match model.mode {
        Mode::Standard => "Standard",
        Mode::Express => "Express",
    };
    let mut doc = format!(
        "\n\nA **{mode}** workflow from `{}` to `{}`, declared with `workflow!`.\n\n# States\n",
        tidy(&ast.input.to_token_stream().to_string()),
        tidy(&ast.output.to_token_stream().to_string()),
    );
    for (index, state) in model.states.iter().enumerate() {
        let decl = state.decl;
        let is_start = matches!(model.start.map(|edge| edge.target), Some(Target::State(start)) if start == index);
        let start = if is_start { " (start)" } else { "" };
        let mut body = match &decl.body {
            StateBody::Task { step, next, .. } => {
                format!(
                    "task `{}` → `{next}`",
                    tidy(&step.to_token_stream().to_string())
                )
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
            },
            StateBody::Pass {
                transform, next, ..
            } => match transform {
                Some(transform) => format!("pass through `{}` → `{next}`", expr_text(transform)),
                None => format!("pass → `{next}`"),
            },
            StateBody::Succeed => "succeed".to_owned(),
            StateBody::Fail { error, .. } => format!("fail with `{}`", error.value()),
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
        doc.push_str(&format!("- `{}`{start}: {body}\n", decl.name));
    }
    doc
}

fn humantime_text(millis: u64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(millis)).to_string()
}

fn error_names(errors: &[ErrorModel<'_>]) -> String {
    errors
        .iter()
        .map(|error| match error {
            ErrorModel::Predefined { name, .. } => format!("`{name}`"),
            ErrorModel::Variant(written) | ErrorModel::AllOf(written) => {
                format!("`{}`", written.text())
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
