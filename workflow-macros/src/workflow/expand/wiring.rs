//! Wiring functions: one type check per transition.
//!
//! A value crosses each transition through `<From as Check<..., To>>::hand_on(value)`, where
//! `Check` is the runtime trait for that kind of transition (start, end, next state, Choice
//! target, catch); every type meets it by being `To`. Another type is one error, spanned at
//! the transition's target, in the trait's words: "the workflow `Checkout` returns `Receipt`,
//! but `Validate` ends it with `Order`". The states are named by const parameters of the wiring
//! function that bear their names: rustc prints a generic parameter as its name, and a const
//! parameter, a value, shadows none of the types the function names.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::private;
use crate::workflow::index::{Idx, ScopeIndex, StateIndex};
use crate::workflow::parse::StateBody;
use crate::workflow::types::Types;
use crate::workflow::validate::{Edge, Model, Target};

/// Which transition a wiring checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EdgeKey {
    /// From a scope's input to its start state.
    Start(ScopeIndex),
    /// From a state to its next state.
    Next(StateIndex),
    /// From a task state to the target of its catcher (by position).
    Catch(StateIndex, usize),
    /// From a Choice state to the target of its rule (by position).
    Rule(StateIndex, usize),
    /// From a Choice state to its default.
    Default(StateIndex),
}

/// The trait a transition's value meets, and what its parameters name.
enum Check {
    /// None: the value as it is (a transition to a target that did not resolve, which is
    /// reported, so that the code is not compiled).
    Plain,
    /// Into a catch target: `FromCaught`, which says what a catch target may take.
    Catch,
    /// A Pass state's output, whose type only rustc knows: `pass_output`, unnamed.
    PassOutput,
    /// `trait_name<W?, {STATE}..., To>`: the workflow type first if `workflow`, then a const
    /// parameter per state it names.
    Named {
        trait_name: &'static str,
        workflow: bool,
        states: Vec<String>,
    },
}

/// A type check of one transition: `fn ident(value: from) -> to`.
pub(super) struct Wiring {
    key: EdgeKey,
    /// The transition's written target.
    span: Span,
    ident: Ident,
    /// `None` when only rustc knows it (a Pass state's output): then the check is inline.
    from: Option<TokenStream>,
    to: TokenStream,
    /// The field of `from` (a tuple) that has no values: the body takes it apart instead of
    /// handing the value on.
    absurd: Option<usize>,
    check: Check,
    /// The const parameters named after the states the check names, in order.
    params: Vec<Ident>,
}

impl Wiring {
    /// The wiring function; nothing for a check made inline.
    pub(super) fn function(&self, workflow: &Ident) -> TokenStream {
        let Wiring {
            span,
            ident,
            from,
            to,
            absurd,
            params,
            ..
        } = self;
        let Some(from) = from else {
            return TokenStream::new();
        };
        // Everything spanned at the transition's target: a mismatch is reported there, and
        // nowhere else.
        let from = respan(from.clone(), *span);
        let to = respan(to.clone(), *span);
        let value = value_ident(*span, params);
        let body = match (absurd, &self.check) {
            (Some(field), _) => {
                let field = syn::Index::from(*field);
                quote_spanned!(*span=> match #value.#field {})
            }
            // A catch target takes `Caught<I>`, or the error alone in AWS's shape.
            (None, Check::Catch) => {
                let p = private::path_at(*span);
                quote_spanned!(*span=> #p::FromCaught::from_caught(#value))
            }
            (None, Check::Plain | Check::PassOutput) => quote_spanned!(*span=> #value),
            (
                None,
                Check::Named {
                    trait_name,
                    workflow: names_workflow,
                    ..
                },
            ) => {
                let p = private::path_at(*span);
                let check = Ident::new(trait_name, *span);
                let workflow = names_workflow.then(|| quote_spanned!(*span=> #workflow,));
                quote_spanned! {*span=>
                    <#from as #p::#check<#workflow #({ #params },)* #to>>::hand_on(#value)
                }
            }
        };
        quote_spanned! {*span=>
            #[allow(non_snake_case, non_upper_case_globals, dead_code, clippy::inline_always, clippy::unused_unit)]
            #[inline(always)]
            fn #ident<#(const #params: bool),*>(#value: #from) -> #to {
                #body
            }
        }
    }

    /// The expression taking `value` across the transition.
    pub(super) fn call(&self, value: &TokenStream) -> TokenStream {
        let span = self.span;
        if self.from.is_none() {
            let p = private::path_at(span);
            let to = respan(self.to.clone(), span);
            let value = respan(value.clone(), span);
            return quote_spanned!(span=> #p::pass_output::<#to, _>(#value));
        }
        let ident = &self.ident;
        let names = self.params.iter().map(|_| quote!(true));
        quote!(#ident::<#(#names),*>(#value))
    }
}

/// The parameter of a wiring function, at `span`. Beside const parameters bearing states'
/// names it is hygienic, so that none of them is taken for it; elsewhere it is not, so that an
/// expression holding it spans the user's token alone (a span cannot join two hygienes).
fn value_ident(span: Span, params: &[Ident]) -> Ident {
    match params.is_empty() {
        true => Ident::new("value", span),
        false => Ident::new("value", Span::mixed_site().located_at(span)),
    }
}

/// The wiring of the transition `key`, if it has one.
pub(super) fn find(wirings: &[Wiring], key: EdgeKey) -> Option<&Wiring> {
    wirings.iter().find(|wiring| wiring.key == key)
}

/// `tokens` with every span set to `span`.
pub(super) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The type a transition's target receives (`None` for a Fail state that computes nothing:
/// anything goes); `End` is the end of the scope the transition is in.
fn target_type(
    model: &Model<'_>,
    types: &Types,
    scope: ScopeIndex,
    target: Target,
) -> Option<TokenStream> {
    match target {
        Target::State(index) if model.state(index).takes_anything() => None,
        Target::State(index) => types.input(index).cloned(),
        Target::End => types.scope_output(scope).cloned(),
        Target::Unknown { .. } => None,
    }
}

/// The check of a transition from `key`'s state (or scope) to `target`.
fn check(model: &Model<'_>, key: EdgeKey, target: Target) -> Check {
    let name = |index: StateIndex| model.state(index).name.to_string();
    let named = |trait_name, workflow, states: Vec<StateIndex>| Check::Named {
        trait_name,
        workflow,
        states: states.into_iter().map(name).collect(),
    };
    let source = match key {
        EdgeKey::Catch(..) => return Check::Catch,
        EdgeKey::Start(scope) => {
            let Target::State(start) = target else {
                return Check::Plain;
            };
            return match model.scopes[scope].owner {
                None => named("WorkflowStart", true, vec![start]),
                Some((owner, _)) => match model.state(owner).body {
                    StateBody::Map { .. } => named("IterationStart", false, vec![owner, start]),
                    _ => named("BranchStart", false, vec![owner, start]),
                },
            };
        }
        EdgeKey::Next(index) | EdgeKey::Rule(index, _) | EdgeKey::Default(index) => index,
    };
    let ends = match target {
        Target::End => true,
        Target::State(index) => matches!(model.state(index).body, StateBody::Succeed),
        Target::Unknown { .. } => false,
    };
    match (ends, model.scopes[model.states[source].scope].owner, target) {
        (true, None, _) => named("WorkflowEnd", true, vec![source]),
        (true, Some((owner, _)), _) => named("BranchEnd", false, vec![owner, source]),
        (false, _, Target::State(next)) => match model.state(source).body {
            StateBody::Choice { .. } => named("ChoiceTarget", false, vec![source, next]),
            _ => named("NextState", false, vec![source, next]),
        },
        (false, _, _) => Check::Plain,
    }
}

/// The const parameters bearing `names`, once each, at `span`. A name that is also a word of
/// `tokens`, the code the function holds (a const in an array's length, a unit struct in a
/// closure), would be taken for the parameter there, so such a parameter is named apart.
pub(super) fn state_params(names: &[String], tokens: &[&TokenStream], span: Span) -> Vec<Ident> {
    let mut words = HashSet::new();
    for tokens in tokens {
        collect_words((*tokens).clone(), &mut words);
    }
    let mut params: Vec<Ident> = Vec::new();
    for name in names {
        let name = if words.contains(name) {
            format!("{name}_state")
        } else {
            name.clone()
        };
        if !params.iter().any(|param| *param == name) {
            params.push(Ident::new(&name, span));
        }
    }
    params
}

fn collect_words(tokens: TokenStream, words: &mut HashSet<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                words.insert(ident.to_string());
            }
            TokenTree::Group(group) => collect_words(group.stream(), words),
            _ => {}
        }
    }
}

/// One wiring per transition whose target's type is known, and whose source's type is known
/// too, or only rustc knows it (a Pass state's output).
pub(super) fn wirings(model: &Model<'_>, types: &Types) -> Vec<Wiring> {
    let p = private::path();
    let mut wirings = Vec::new();
    let mut add = |key: EdgeKey,
                   scope: ScopeIndex,
                   edge: Edge<'_>,
                   from: Option<TokenStream>,
                   label: String| {
        let Some(to) = target_type(model, types, scope, edge.target) else {
            return;
        };
        let passes = matches!(key, EdgeKey::Next(index) if matches!(model.state(index).body, StateBody::Pass { .. }));
        if from.is_none() && !passes {
            return;
        }
        let check = match from {
            Some(_) => check(model, key, edge.target),
            None => Check::PassOutput,
        };
        let span = edge.written.span();
        let params = match &check {
            Check::Named { states, .. } => {
                let tokens: Vec<&TokenStream> = from.iter().chain([&to]).collect();
                state_params(states, &tokens, span)
            }
            _ => Vec::new(),
        };
        let absurd = match key {
            EdgeKey::Next(index) => types.uninhabited(index),
            _ => None,
        };
        wirings.push(Wiring {
            key,
            span,
            ident: format_ident!("__wire_{}", label),
            from,
            to,
            absurd,
            check,
            params,
        });
    };
    for (scope, members) in model.scopes.iter_enumerated() {
        if let Some(edge) = members.start {
            let input = types.scope_input(scope).cloned();
            let label = format!("start{}", scope.raw());
            add(EdgeKey::Start(scope), scope, edge, input, label);
        }
    }
    for (index, state) in model.states.iter_enumerated() {
        let name = &state.decl.name;
        let scope = state.scope;
        let output = types.output(index).cloned();
        if let Some(edge) = state.next {
            let label = format!("{name}_next");
            add(EdgeKey::Next(index), scope, edge, output.clone(), label);
        }
        let catches = state.task.iter().flat_map(|task| task.catches.iter());
        for (catcher, catch) in catches.enumerate() {
            let caught = types.input(index).map(|input| quote!(#p::Caught<#input>));
            let label = format!("{name}_catch{catcher}");
            add(
                EdgeKey::Catch(index, catcher),
                scope,
                catch.edge,
                caught,
                label,
            );
        }
        if let Some(choice) = &state.choice {
            for (rule, edge) in choice.rules.iter().enumerate() {
                let label = format!("{name}_rule{rule}");
                add(
                    EdgeKey::Rule(index, rule),
                    scope,
                    *edge,
                    output.clone(),
                    label,
                );
            }
            if let Some(edge) = choice.default {
                let label = format!("{name}_default");
                add(EdgeKey::Default(index), scope, edge, output.clone(), label);
            }
        }
    }
    wirings
}
