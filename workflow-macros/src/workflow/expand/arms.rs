//! The machine's code: entering the start state, and one `advance` arm per state kind.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::wiring::{find, respan, EdgeKey};
use super::{inputs, step_alias, Expansion};
use crate::private;
use crate::workflow::index::{ScopeIndex, StateIndex};
use crate::workflow::parse::{StateBody, WaitFor};
use crate::workflow::validate::{CatchModel, Edge, Target, TaskModel};

/// The body of `Machine::start` of a scope: the start transition of its input.
pub(super) fn start(expansion: &Expansion<'_, '_>, scope: ScopeIndex) -> TokenStream {
    match expansion.model.scopes[scope].start {
        Some(edge) => transition(expansion, EdgeKey::Start(scope), edge, &quote!(input)),
        None => quote!(::core::unreachable!()),
    }
}

/// The `advance` arm of the state `index`.
pub(super) fn arm(expansion: &Expansion<'_, '_>, index: StateIndex) -> TokenStream {
    let p = private::path();
    let decl = expansion.model.state(index);
    let variant = &decl.name;
    let next = || next_transition(expansion, index);
    match &decl.body {
        StateBody::Task { .. } => task_arm(expansion, index),
        StateBody::Choice { rules, .. } => {
            let tests = (0..rules.len()).map(|rule| {
                let test = inputs::rule_ident(expansion, index, rule);
                quote!(if #test(&input) { ::core::option::Option::Some(#rule) } else)
            });
            let choice = expansion.model.states[index].choice.as_ref();
            let rule_arms = choice
                .into_iter()
                .flat_map(|choice| choice.rules.iter())
                .enumerate()
                .map(|(rule, edge)| {
                    let target =
                        transition(expansion, EdgeKey::Rule(index, rule), *edge, &quote!(value));
                    quote!(::core::option::Option::Some(#rule) => #target,)
                });
            let default = match choice.and_then(|choice| choice.default) {
                Some(edge) => transition(expansion, EdgeKey::Default(index), edge, &quote!(value)),
                // `enter_choice` has failed the state already; the same failure again.
                None => quote!(#p::Advance::Failed(#p::no_choice_matched(cx, #p::StateId(#index)))),
            };
            quote! {
                Self::#variant(input) => {
                    let rule = #(#tests)* { ::core::option::Option::None };
                    if let ::core::result::Result::Err(failure) = #p::enter_choice(cx, #p::StateId(#index), &input, rule) {
                        return #p::Advance::Failed(failure);
                    }
                    let value = input;
                    match rule {
                        #(#rule_arms)*
                        _ => #default,
                    }
                }
            }
        }
        StateBody::Wait { wait, .. } => {
            let wake = match wait {
                WaitFor::Until(_) => {
                    let selector = inputs::until_ident(expansion, index);
                    quote!(::core::option::Option::Some(#p::Wake::At(#selector(&input))))
                }
                WaitFor::DurationFrom(_) => {
                    let function = inputs::wait_ident(expansion, index);
                    quote!(::core::option::Option::Some(#p::Wake::After(#function(&input))))
                }
                WaitFor::Duration(_) => quote!(::core::option::Option::None),
            };
            let next = next();
            quote! {
                Self::#variant(input) => {
                    let wake = #wake;
                    match #p::run_wait(cx, #p::StateId(#index), input, wake).await {
                        ::core::result::Result::Ok(value) => #next,
                        ::core::result::Result::Err(failure) => #p::Advance::Failed(failure),
                    }
                }
            }
        }
        StateBody::Pass { transform, .. } => {
            let transform = match transform {
                Some(transform) => quote_spanned!(transform.span()=> #transform),
                None => quote!(|value| value),
            };
            let next = next();
            quote! {
                Self::#variant(input) => match #p::run_pass(cx, #p::StateId(#index), input, #transform) {
                    ::core::result::Result::Ok(value) => #next,
                    ::core::result::Result::Err(failure) => #p::Advance::Failed(failure),
                },
            }
        }
        StateBody::Parallel {
            keyword, branches, ..
        } => {
            let copy = quote_spanned!(keyword.span()=> <_ as ::core::clone::Clone>::clone);
            let runs = (0..branches.len()).map(|number| {
                let scope = expansion.model.states[index].branches[number];
                let machine = expansion.machine(scope);
                quote!(#p::run_branch::<#machine>(&lanes[#number], #copy(input)))
            });
            let lanes = (0..branches.len()).map(|number| quote!(attempts.branch(#number)));
            let run = quote! {
                let input = attempts.input();
                let lanes = [#(#lanes),*];
                let result = #p::try_join!(#(#runs),*);
            };
            composite_arm(expansion, index, &TokenStream::new(), &quote!(None), run)
        }
        StateBody::Map { keyword, .. } => {
            let Some(scope) = expansion.model.states[index].iteration() else {
                return TokenStream::new();
            };
            let machine = expansion.machine(scope);
            let items = inputs::select_items(expansion, index, &quote!(attempts.input()));
            let tolerant = expansion.model.states[index]
                .task
                .as_ref()
                .is_some_and(TaskModel::tolerates);
            let mapping = if tolerant {
                // Tolerated failures keep the failed item: its `Clone`, named at `map`.
                let copy = quote_spanned!(keyword.span()=> <_ as ::core::clone::Clone>::clone);
                quote!(#p::run_map_tolerant::<#machine, _>(&attempts, items, limits, #copy).await)
            } else {
                quote!(#p::run_map::<#machine, _>(&attempts, items, limits).await)
            };
            let run = quote! {
                let result = #mapping;
            };
            let computes_limits = expansion.model.states[index]
                .task
                .as_ref()
                .is_some_and(|task| task.computed.any_map_limit());
            let limits = if computes_limits {
                let function = inputs::settings_ident(expansion, index);
                quote!(#function(attempts.input()))
            } else {
                quote!(#p::ComputedMapLimits::AS_DEFINED)
            };
            // The items first: the attempt's start records how many there are.
            let prepare = quote! {
                let items = #items;
                let limits = #limits;
            };
            composite_arm(expansion, index, &prepare, &quote!(Some(items.len())), run)
        }
        // Not variants: they end the execution where they are reached.
        StateBody::Succeed | StateBody::Fail { .. } => TokenStream::new(),
    }
}

/// The arm of a Parallel or Map state: the attempt loop around `run`, which leaves the
/// attempt's `result` in scope. Each attempt runs `prepare`, then starts with `length` (an
/// `Option` variant: a Map state's number of items).
fn composite_arm(
    expansion: &Expansion<'_, '_>,
    index: StateIndex,
    prepare: &TokenStream,
    length: &TokenStream,
    run: TokenStream,
) -> TokenStream {
    let p = private::path();
    let variant = &expansion.model.state(index).name;
    let next = next_transition(expansion, index);
    let caught_arms = caught_arms(
        expansion,
        index,
        &quote!(#p::Settled::Caught),
        &quote!(break),
    );
    quote! {
        Self::#variant(input) => {
            let mut attempts = match #p::Attempts::enter(cx, #p::StateId(#index), input) {
                ::core::result::Result::Ok(attempts) => attempts,
                ::core::result::Result::Err(failure) => return #p::Advance::Failed(failure),
            };
            loop {
                #prepare
                let result = match attempts.start(::core::option::Option::#length) {
                    // A failure read back from the history, when resuming.
                    ::core::option::Option::Some(stored) => ::core::result::Result::Err(stored),
                    ::core::option::Option::None => {
                        #run
                        result
                    }
                };
                attempts = match attempts.settle(result).await {
                    #p::Settled::Retry(again) => again,
                    #p::Settled::Succeeded(value) => break #next,
                    #caught_arms
                    #p::Settled::Failed(failure) => break #p::Advance::Failed(failure),
                };
            }
        }
    }
}

/// The match arms of a state's catchers, `#caught(k, value) => #exit #target`; the last takes
/// any index so the match is exhaustive. Without catchers, one arm for the case that cannot
/// happen (a state with retriers only).
fn caught_arms(
    expansion: &Expansion<'_, '_>,
    index: StateIndex,
    caught: &TokenStream,
    exit: &TokenStream,
) -> TokenStream {
    let p = private::path();
    let catches = expansion.model.states[index]
        .task
        .as_ref()
        .map(|task| task.catches.as_slice())
        .unwrap_or_default();
    if catches.is_empty() {
        return quote!(#caught(_, _) => #exit #p::no_catcher(cx, #p::StateId(#index)),);
    }
    let arms = catcher_targets(expansion, index, catches)
        .map(|(pattern, target)| quote!(#caught(#pattern, value) => #exit #target,));
    quote!(#(#arms)*)
}

/// Each of the catchers `catches` of state `index`: the pattern of its number (the last
/// one's `_`, so that a `match` on the number is exhaustive), and its target's transition of
/// the caught `value`.
fn catcher_targets<'x>(
    expansion: &'x Expansion<'_, '_>,
    index: StateIndex,
    catches: &'x [CatchModel<'_>],
) -> impl Iterator<Item = (TokenStream, TokenStream)> + 'x {
    catches.iter().enumerate().map(move |(catcher, catch)| {
        let target = transition(
            expansion,
            EdgeKey::Catch(index, catcher),
            catch.edge,
            &quote!(value),
        );
        let pattern = if catcher + 1 == catches.len() {
            quote!(_)
        } else {
            quote!(#catcher)
        };
        (pattern, target)
    })
}

fn task_arm(expansion: &Expansion<'_, '_>, index: StateIndex) -> TokenStream {
    let p = private::path();
    let step = step_alias(expansion.model, index);
    let variant = &expansion.model.state(index).name;
    let next = next_transition(expansion, index);
    let task = expansion.model.states[index].task.as_ref();
    let timers = task_timers(expansion, index);
    let Some(policy_span) = task.and_then(TaskModel::policy_span) else {
        return quote! {
            Self::#variant(input) => match #p::run_task::<#step>(cx, #p::StateId(#index), #timers, input).await {
                ::core::result::Result::Ok(value) => #next,
                ::core::result::Result::Err(failure) => #p::Advance::Failed(failure),
            },
        };
    };
    let outcome_arms = outcome_arms(expansion, index, next);
    let copy = input_copy(expansion, index, policy_span);
    quote! {
        Self::#variant(input) => match #p::run_task_with_policies::<#step>(cx, #p::StateId(#index), #timers, input, #copy).await {
            #outcome_arms
        },
    }
}

/// A task state with retriers or catchers in a machine whose arms are grouped: its arm, which
/// makes the state's boxed future, and the functions of the machine that turn its outcome
/// into the machine's next step.
pub(super) struct BoxedTask {
    pub(super) arm: TokenStream,
    pub(super) functions: TokenStream,
}

/// The [`BoxedTask`] of state `index`, in a machine whose output type is `output`; `None` for
/// any other state than a task with retriers or catchers. Its arm
/// holds no await, so the function holding such arms is not an `async` body (see
/// [`advance`](super::advance)).
pub(super) fn boxed_task(
    expansion: &Expansion<'_, '_>,
    index: StateIndex,
    output: &TokenStream,
) -> Option<BoxedTask> {
    let p = private::path();
    let decl = expansion.model.state(index);
    if !matches!(decl.body, StateBody::Task { .. }) {
        return None;
    }
    let task = expansion.model.states[index].task.as_ref()?;
    let policy_span = task.policy_span()?;
    let step = step_alias(expansion.model, index);
    let variant = &decl.name;
    let next = next_transition(expansion, index);
    let timers = task_timers(expansion, index);
    let copy = input_copy(expansion, index, policy_span);
    let succeeded = format_ident!("__succeeded_{}", variant, span = Span::call_site());
    let mut functions = quote! {
        fn #succeeded(
            value: <#step as #p::Step>::Output,
            cx: &#p::ExecutionContext<'_>,
        ) -> #p::Advance<Self, #output> {
            let _ = &cx;
            #next
        }
    };
    let catches = task.catches.as_slice();
    let caught = if catches.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let caught = format_ident!("__caught_{}", variant, span = Span::call_site());
        let arms = catcher_targets(expansion, index, catches)
            .map(|(pattern, target)| quote!(#pattern => #target,));
        functions.extend(quote! {
            fn #caught(
                catcher: usize,
                value: #p::Caught<<#step as #p::Step>::Input>,
                cx: &#p::ExecutionContext<'_>,
            ) -> #p::Advance<Self, #output> {
                let _ = &cx;
                match catcher {
                    #(#arms)*
                }
            }
        });
        quote!(::core::option::Option::Some(Self::#caught))
    };
    let arm = quote! {
        Self::#variant(input) => #p::run_task_then(
            cx,
            #p::StateId(#index),
            #timers,
            input,
            #copy,
            const { #p::TaskCall::of::<#step>() },
            Self::#succeeded,
            #caught,
        ),
    };
    Some(BoxedTask { arm, functions })
}

/// The arms of a `match` on a task's `TaskOutcome`: its next state, its catchers' targets,
/// or its failure.
fn outcome_arms(
    expansion: &Expansion<'_, '_>,
    index: StateIndex,
    next: TokenStream,
) -> TokenStream {
    let p = private::path();
    let caught_arms = caught_arms(
        expansion,
        index,
        &quote!(#p::TaskOutcome::Caught),
        &TokenStream::new(),
    );
    quote! {
        #p::TaskOutcome::Succeeded(value) => #next,
        #caught_arms
        #p::TaskOutcome::Failed(failure) => #p::Advance::Failed(failure),
    }
}

/// The transition of state `index` to its next state with its output `value`.
fn next_transition(expansion: &Expansion<'_, '_>, index: StateIndex) -> TokenStream {
    match expansion.model.states[index].next {
        Some(edge) => transition(expansion, EdgeKey::Next(index), edge, &quote!(value)),
        None => quote!(::core::unreachable!()),
    }
}

/// The timers of task state `index`: worked out from its `input` when it computes any, or
/// as defined.
fn task_timers(expansion: &Expansion<'_, '_>, index: StateIndex) -> TokenStream {
    let p = private::path();
    let task = expansion.model.states[index].task.as_ref();
    if task.is_some_and(|task| task.computed.any_timer()) {
        let function = inputs::settings_ident(expansion, index);
        quote!(#function(&input))
    } else {
        quote!(#p::ComputedTimers::AS_DEFINED)
    }
}

/// Retrying and catching need a copy of the input: its `Clone`, named at the first
/// `retry`/`catch` (`policy_span`) so that a payload without `Clone` is reported there.
fn input_copy(expansion: &Expansion<'_, '_>, index: StateIndex, policy_span: Span) -> TokenStream {
    let p = private::path();
    let step = step_alias(expansion.model, index);
    quote_spanned!(policy_span=> <<#step as #p::Step>::Input as ::core::clone::Clone>::clone)
}

/// The expression that takes `value` along `edge` and returns the `Advance`. With a wiring,
/// the value goes through it; without one (a type only rustc knows), the construction itself
/// is spanned at the target, so a mismatch is still reported at the arrow.
fn transition(
    expansion: &Expansion<'_, '_>,
    key: EdgeKey,
    edge: Edge<'_>,
    value: &TokenStream,
) -> TokenStream {
    let p = private::path();
    let span = edge.written.span();
    let wired = match find(&expansion.wirings, key) {
        Some(wiring) => wiring.call(value),
        None => respan(value.clone(), span),
    };
    match edge.target {
        Target::State(index) => {
            let decl = expansion.model.state(index);
            match &decl.body {
                StateBody::Succeed => {
                    quote_spanned!(span=> #p::enter_succeed(cx, #p::StateId(#index), #wired))
                }
                StateBody::Fail { .. } if decl.takes_anything() => {
                    quote!(#p::enter_fail(cx, #p::StateId(#index), &#value))
                }
                StateBody::Fail { .. } => {
                    let computes = inputs::fail_ident(expansion, index);
                    quote_spanned!(span=> #p::enter_fail_with(cx, #p::StateId(#index), &#wired, #computes))
                }
                _ => {
                    // The variant named at the arrow too, so a mismatch points only there.
                    let variant = syn::Ident::new(&decl.name.to_string(), span);
                    quote_spanned!(span=> #p::Advance::Next(Self::#variant(#wired)))
                }
            }
        }
        Target::End => quote_spanned!(span=> #p::Advance::Succeeded(#wired)),
        Target::Unknown { .. } => quote!(::core::unreachable!()),
    }
}
