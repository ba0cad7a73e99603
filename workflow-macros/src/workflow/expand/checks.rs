//! Checks of `retry`/`catch` errors and of timeouts that only rustc can make.
//!
//! A check of a value only known as a constant (a step's error names, its own timeout) is a
//! constant assertion, named for what must hold: rustc reports its message, and "evaluation of
//! `_::Charge_has_a_timeout` failed here" on the user's token.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

use super::{step_alias, task_states, type_text};
use crate::private;
use crate::workflow::index::StateIndex;
use crate::workflow::validate::{max_millis, ErrorModel, Mode, Model, TaskModel};

fn task_model<'m>(model: &'m Model<'_>, index: StateIndex) -> Option<&'m TaskModel<'m>> {
    model.states[index].task.as_ref()
}

/// For every error named in `retry`/`catch`, a function rustc checks against the step's error
/// type, spanned at the error's path: naming a variant the type lacks, or another type's
/// variant, is a compile error there.
pub(super) fn error_checks(model: &Model<'_>) -> TokenStream {
    let p = private::path();
    let mut checks = TokenStream::new();
    let mut names = HashSet::new();
    for index in model.states.indices() {
        let Some(task) = task_model(model, index) else {
            continue;
        };
        // A task's clauses are checked against its step's error type; a Parallel or Map
        // state has no single step, so each clause is checked against the type it names.
        let step_error = model.state(index).step().map(|_| {
            let step = step_alias(model, index);
            quote!(<#step as #p::Step>::Error)
        });
        let lists = task
            .retries
            .iter()
            .map(|retry| &retry.errors)
            .chain(task.catches.iter().map(|catch| &catch.errors));
        for (number, error) in lists.flatten().enumerate() {
            let ident = format_ident!("__error_{}_{}", model.state(index).name, number);
            let check = match error {
                // A task's step: the type the clause names (inferred from the variant's
                // pattern first) must be the step's error type, checked by a bound whose
                // message names the step and the type it raises.
                ErrorModel::Variant(written) | ErrorModel::AllOf(written)
                    if step_error.is_some() =>
                {
                    let p = private::path_at(written.span());
                    let clause = if matches!(error, ErrorModel::Variant(_)) {
                        let path = written.path();
                        quote_spanned!(written.span()=> #p::clause(|error| ::core::matches!(error, #path { .. })))
                    } else {
                        let type_path = written.type_path();
                        quote_spanned!(written.span()=> #p::clause::<#type_path>(|_| true))
                    };
                    let step =
                        syn::Ident::new(&step_alias(model, index).to_string(), written.span());
                    quote_spanned! {written.span()=>
                        #[allow(non_snake_case, dead_code)]
                        fn #ident() {
                            let clause = #clause;
                            clause.raised_by::<#step>();
                        }
                    }
                }
                ErrorModel::Variant(written) => {
                    let path = written.path();
                    let error_type = written.error_type();
                    quote_spanned! {written.span()=>
                        #[allow(non_snake_case, dead_code)]
                        fn #ident(error: &#error_type) -> bool {
                            ::core::matches!(error, #path { .. })
                        }
                    }
                }
                ErrorModel::AllOf(written) => {
                    let type_path = written.type_path();
                    quote_spanned! {written.span()=>
                        #[allow(non_snake_case, dead_code)]
                        fn #ident(error: &#type_path) -> &#type_path {
                            error
                        }
                    }
                }
                ErrorModel::Named(name) => {
                    // A task's step lists its error names, unless it is a nested workflow,
                    // whose names are checked when the runtime is built.
                    let Some(error_type) = &step_error else {
                        continue;
                    };
                    let step = step_alias(model, index);
                    let message = format!(
                        "state `{}` handles {:?}, which its step `{}` never raises; to name it anyway, write `unchecked {:?}`",
                        model.state(index).name,
                        name.value(),
                        model
                            .state(index)
                            .step()
                            .map(type_text)
                            .unwrap_or_default(),
                        name.value(),
                    );
                    let holds = format!(
                        "{}_can_raise_{}",
                        state_name(model, index),
                        identifier_text(&name.value())
                    );
                    assertion(
                        name.span(),
                        &unique(holds, &mut names),
                        quote_spanned! {name.span()=>
                            <#step as #p::Step>::CHILD_WORKFLOW
                                || #p::names_contain(<#error_type as #p::StepError>::ERROR_NAMES, #name)
                        },
                        &message,
                    )
                }
                ErrorModel::Predefined { .. } | ErrorModel::Unchecked(_) => continue,
            };
            checks.extend(check);
        }
    }
    checks
}

/// A constant assertion named `name`, that `condition` holds, at `span`.
fn assertion(span: Span, name: &str, condition: TokenStream, message: &str) -> TokenStream {
    let name = syn::Ident::new(name, span);
    quote_spanned! {span=>
        #[allow(non_upper_case_globals, dead_code)]
        const #name: () = ::core::assert!(#condition, #message);
    }
}

/// The name of state `index` as it reads in an identifier.
fn state_name(model: &Model<'_>, index: StateIndex) -> String {
    model.state(index).name.unraw().to_string()
}

/// `text` as it reads in an identifier: every character that cannot be in one as `_`.
fn identifier_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `name`, or `name_2`, `name_3`... if `taken` has it; now taken.
fn unique(name: String, taken: &mut HashSet<String>) -> String {
    let unique = (1..)
        .map(|count| match count {
            1 => name.clone(),
            count => format!("{name}_{count}"),
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(name);
    taken.insert(unique.clone());
    unique
}

/// Constant assertions about timeouts that depend on `#[step(...)]` options, which only the
/// compiler sees: handling `States.Timeout` needs a timeout, the heartbeat must be shorter than
/// the timeout, and an Express task's timeout fits in five minutes.
pub(super) fn timing_checks(model: &Model<'_>) -> TokenStream {
    let p = private::path();
    let mut checks = TokenStream::new();
    for (index, step) in task_states(model) {
        let decl = model.state(index);
        let state = decl.name.to_string();
        let step_text = decl.step().map(type_text).unwrap_or_default();
        if model.mode == Mode::Express {
            let message = format!(
                "state `{state}`: `{step_text}` is a callback step (it returns `Callback<...>`); waiting for the outside world needs a Standard workflow"
            );
            let span = decl
                .step()
                .map_or_else(|| decl.name.span(), syn::spanned::Spanned::span);
            checks.extend(assertion(
                span,
                &format!("{}_waits_for_no_callback", state_name(model, index)),
                quote!(!<#step as #p::Step>::CALLBACK),
                &message,
            ));
        }
        let Some(task) = task_model(model, index) else {
            continue;
        };
        let millis = |duration: Option<crate::duration::DurationLit>| match duration {
            Some(duration) => {
                let millis = duration.millis;
                quote!(::core::option::Option::Some(#millis))
            }
            None => quote!(::core::option::Option::None),
        };
        let timeout = millis(task.timeout);
        let heartbeat = millis(task.heartbeat);
        let handled = task
            .retries
            .iter()
            .map(|retry| &retry.errors)
            .chain(task.catches.iter().map(|catch| &catch.errors))
            .flatten();
        // Once per timer, at the first clause handling its timeout: one missing timer is one
        // mistake.
        let mut checked = HashSet::new();
        for error in handled {
            let ErrorModel::Predefined { name, written } = error else {
                continue;
            };
            let (needs_heartbeat, setting) = match *name {
                "States.Timeout" => (false, "timeout"),
                "States.HeartbeatTimeout" => (true, "heartbeat"),
                _ => continue,
            };
            // A timer worked out from the input exists whatever its value.
            let computed = match needs_heartbeat {
                true => task.computed.heartbeat,
                false => task.computed.timeout,
            };
            if computed.is_some() || !checked.insert(setting) {
                continue;
            }
            let message = format!(
                "state `{state}` handles `{name}`, but neither the state nor its step `{step_text}` has a {setting}: add `{setting} 10s` to the state or `#[step({setting} = \"10s\")]` to the step"
            );
            let state_value = if needs_heartbeat {
                &heartbeat
            } else {
                &timeout
            };
            let getter = if needs_heartbeat {
                quote!(heartbeat)
            } else {
                quote!(timeout)
            };
            checks.extend(assertion(
                written.span(),
                &format!("{}_has_a_{setting}", state_name(model, index)),
                quote!(#p::has_duration(#state_value, <#step as #p::Step>::INFO.#getter())),
                &message,
            ));
        }
        let span = decl.name.span();
        // Both set on the state: validation already compared them; one worked out from the
        // input: the runtime compares them.
        if (task.timeout.is_none() || task.heartbeat.is_none()) && !task.computed.any_timer() {
            let message = format!(
                "state `{state}`: the heartbeat interval of step `{step_text}` must be shorter than its timeout"
            );
            checks.extend(assertion(
                span,
                &format!(
                    "{}_heartbeat_is_shorter_than_its_timeout",
                    state_name(model, index)
                ),
                quote!(#p::heartbeat_below_timeout(#timeout, #heartbeat, <#step as #p::Step>::INFO)),
                &message,
            ));
        }
        if model.mode == Mode::Express && task.timeout.is_none() && task.computed.timeout.is_none()
        {
            let express_max = max_millis(Mode::Express);
            let message = format!(
                "state `{state}`: the timeout of step `{step_text}` is longer than an Express workflow may run (5 minutes)"
            );
            checks.extend(assertion(
                span,
                &format!(
                    "{}_timeout_fits_in_an_Express_workflow",
                    state_name(model, index)
                ),
                quote!(#p::timeout_within(<#step as #p::Step>::INFO, #express_max)),
                &message,
            ));
        }
    }
    checks
}
