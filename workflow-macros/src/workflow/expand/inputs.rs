//! Functions over a state's typed input: Choice predicates, Wait times, Map selectors, settings
//! worked out from the input, Fail texts. Each is spanned at the user's code, and a closure's
//! annotated parameter (`|order: &Order| ...`) is checked against what the state receives at
//! the annotation: a function over another type is one error there, saying what the state
//! receives.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::wiring::{respan, state_params};
use super::Expansion;
use crate::private;
use crate::workflow::index::StateIndex;
use crate::workflow::parse::{FailText, StateBody, WaitFor};
use crate::workflow::types::referenced_type;
use crate::workflow::validate::Target;

/// The function working out a Wait state's wake time from its input.
pub(super) fn until_ident(expansion: &Expansion<'_, '_>, index: StateIndex) -> Ident {
    format_ident!("__until_{}", expansion.model.state(index).name)
}

/// The function working out a Wait state's duration from its input.
pub(super) fn wait_ident(expansion: &Expansion<'_, '_>, index: StateIndex) -> Ident {
    format_ident!("__wait_{}", expansion.model.state(index).name)
}

/// The function working out a task's timers or a Map state's limits from its input.
pub(super) fn settings_ident(expansion: &Expansion<'_, '_>, index: StateIndex) -> Ident {
    format_ident!("__settings_{}", expansion.model.state(index).name)
}

/// The function working out a Fail state's error name and cause from its input.
pub(super) fn fail_ident(expansion: &Expansion<'_, '_>, index: StateIndex) -> Ident {
    format_ident!("__fail_{}", expansion.model.state(index).name)
}

/// The function telling whether a Choice state's rule holds.
pub(super) fn rule_ident(expansion: &Expansion<'_, '_>, index: StateIndex, rule: usize) -> Ident {
    format_ident!("__rule_{}_{}", expansion.model.state(index).name, rule)
}

/// The Map state's function selecting its items.
pub(super) fn items_ident(expansion: &Expansion<'_, '_>, index: StateIndex) -> Ident {
    format_ident!("__items_{}", expansion.model.state(index).name)
}

/// `value`, the state's input (`&input`), as the parameter of `function`: when the function is
/// a closure annotating it (`|order: &Order| ...`), through `check`, a trait of the runtime
/// that the input meets by being that type, spanned at the annotation.
fn as_param(function: &Expr, input: &TokenStream, check: &str) -> TokenStream {
    let Some(param) = referenced_type(function) else {
        return quote!(value);
    };
    let span = param.span();
    let p = private::path_at(span);
    let input = respan(input.clone(), span);
    let param = respan(param.to_token_stream(), span);
    let check = Ident::new(check, span);
    quote_spanned!(span=> <#input as #p::#check<#param>>::as_param(value))
}

/// `function` applied by the runtime's `helper` to `value` as its parameter.
fn apply(function: &Expr, input: &TokenStream, check: &str, helper: &str) -> TokenStream {
    let span = function.span();
    let p = private::path_at(span);
    let helper = Ident::new(helper, span);
    let value = as_param(function, input, check);
    quote_spanned!(span=> #p::#helper(#function, #value))
}

/// A function over a state's input: `fn ident(value: &input) -> output { body }`, spanned at
/// the user's function if it has one.
fn function(
    span: Option<Span>,
    ident: &Ident,
    input: &TokenStream,
    output: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let Some(span) = span else {
        return quote! {
            #[allow(non_snake_case, dead_code)]
            fn #ident(value: &#input) -> #output {
                #body
            }
        };
    };
    let input = respan(input.clone(), span);
    quote_spanned! {span=>
        #[allow(non_snake_case, dead_code)]
        fn #ident(value: &#input) -> #output {
            #body
        }
    }
}

/// Every function over a state's input, for the states whose input type is known.
pub(super) fn functions(expansion: &Expansion<'_, '_>) -> TokenStream {
    let mut functions = TokenStream::new();
    for index in expansion.model.states.indices() {
        let Some(input) = expansion.types.input(index) else {
            continue;
        };
        match &expansion.model.state(index).body {
            StateBody::Choice { rules, .. } => {
                for (rule, written) in rules.iter().enumerate() {
                    let ident = rule_ident(expansion, index, rule);
                    let predicate = &written.predicate;
                    let holds = apply(predicate, input, "ChoiceInput", "holds");
                    functions.extend(function(
                        Some(predicate.span()),
                        &ident,
                        input,
                        quote!(bool),
                        holds,
                    ));
                }
            }
            StateBody::Wait {
                wait: WaitFor::Until(selector),
                ..
            } => {
                let ident = until_ident(expansion, index);
                let wake = apply(selector, input, "WaitInput", "wake_time");
                let output = quote!(::std::time::SystemTime);
                functions.extend(function(Some(selector.span()), &ident, input, output, wake));
            }
            StateBody::Wait {
                wait: WaitFor::DurationFrom(duration),
                ..
            } => {
                let ident = wait_ident(expansion, index);
                let wait = apply(duration, input, "WaitInput", "duration_from");
                let output = quote!(::core::time::Duration);
                functions.extend(function(Some(duration.span()), &ident, input, output, wait));
            }
            StateBody::Task { .. } | StateBody::Map { .. } => {
                functions.extend(settings_function(expansion, index, input));
                if let StateBody::Map { items, .. } = &expansion.model.state(index).body {
                    functions.extend(items_function(expansion, index, input, items));
                }
            }
            StateBody::Fail { error, cause } if !expansion.model.state(index).takes_anything() => {
                let part =
                    |part: &Option<FailText>| match part.as_ref().and_then(FailText::computed) {
                        Some(text) => {
                            let text = apply(text, input, "FailInput", "fail_text");
                            quote!(::core::option::Option::Some(#text))
                        }
                        None => quote!(::core::option::Option::None),
                    };
                let (error, cause) = (part(error), part(cause));
                let ident = fail_ident(expansion, index);
                let text = quote!(::core::option::Option<::std::string::String>);
                functions.extend(function(
                    None,
                    &ident,
                    input,
                    quote!((#text, #text)),
                    quote!((#error, #cause)),
                ));
            }
            _ => {}
        }
    }
    functions
}

/// The const parameters naming a Map state and its iteration's start in the check of its
/// items; `None` when the iteration has no start, or takes a type nothing gives (both
/// reported).
fn items_params(expansion: &Expansion<'_, '_>, index: StateIndex) -> Option<Vec<Ident>> {
    let model = expansion.model;
    let StateBody::Map { items, .. } = &model.state(index).body else {
        return None;
    };
    let input = expansion.types.input(index)?;
    let iteration = model.states[index].iteration()?;
    let item = expansion.types.scope_input(iteration)?;
    let Some(Target::State(start)) = model.scopes[iteration].start.map(|edge| edge.target) else {
        return None;
    };
    let names = [index, start].map(|state| model.state(state).name.to_string());
    let code = [input, item, &items.to_token_stream()];
    Some(state_params(&names, &code, items.span()))
}

/// A Map state's function selecting its items, as its iteration takes them.
fn items_function(
    expansion: &Expansion<'_, '_>,
    index: StateIndex,
    input: &TokenStream,
    items: &Expr,
) -> TokenStream {
    let (Some(params), Some(item)) = (
        items_params(expansion, index),
        expansion.model.states[index]
            .iteration()
            .and_then(|iteration| expansion.types.scope_input(iteration)),
    ) else {
        return TokenStream::new();
    };
    let span = items.span();
    let item = respan(item.clone(), span);
    let p = private::path_at(span);
    let value = as_param(items, input, "MapInput");
    let input = respan(input.clone(), span);
    let ident = items_ident(expansion, index);
    quote_spanned! {span=>
        #[allow(non_snake_case, non_upper_case_globals, dead_code)]
        fn #ident<#(const #params: bool),*>(value: &#input) -> ::std::vec::Vec<#item> {
            #p::select_items::<#({ #params },)* #item, _, _>(#items, #value)
        }
    }
}

/// The call of a Map state's function selecting its items, on `input` (a reference).
pub(super) fn select_items(
    expansion: &Expansion<'_, '_>,
    index: StateIndex,
    input: &TokenStream,
) -> TokenStream {
    let ident = items_ident(expansion, index);
    let params = items_params(expansion, index).unwrap_or_default();
    let names = params.iter().map(|_| quote!(true));
    quote!(#ident::<#(#names),*>(#input))
}

/// The function applying a task's or a Map state's settings functions to its input; nothing
/// when no setting is computed.
fn settings_function(
    expansion: &Expansion<'_, '_>,
    index: StateIndex,
    input: &TokenStream,
) -> TokenStream {
    let p = private::path();
    let Some(task) = expansion.model.states[index].task.as_ref() else {
        return TokenStream::new();
    };
    let computed = task.computed;
    let setting = |function: Option<&Expr>, check: &str, helper: &str| match function {
        Some(function) => {
            let value = apply(function, input, check, helper);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    };
    let (ty, fields) = match &expansion.model.state(index).body {
        StateBody::Task { .. } if computed.any_timer() => {
            let timeout = setting(computed.timeout, "TaskInput", "duration_from");
            let heartbeat = setting(computed.heartbeat, "TaskInput", "duration_from");
            (
                quote!(ComputedTimers),
                quote!(timeout: #timeout, heartbeat: #heartbeat),
            )
        }
        StateBody::Map { .. } if computed.any_map_limit() => {
            let max_concurrency = setting(computed.max_concurrency, "MapInput", "count_from");
            let count = setting(computed.tolerated_count, "MapInput", "count_from");
            let percentage = setting(computed.tolerated_percentage, "MapInput", "percentage_from");
            (
                quote!(ComputedMapLimits),
                quote!(max_concurrency: #max_concurrency, tolerated_count: #count, tolerated_percentage: #percentage),
            )
        }
        _ => return TokenStream::new(),
    };
    let ident = settings_ident(expansion, index);
    function(
        None,
        &ident,
        input,
        quote!(#p::#ty),
        quote!(#p::#ty { #fields }),
    )
}
