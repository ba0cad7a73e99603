//! Wiring functions: one type check per transition.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::private;
use crate::workflow::index::{Idx, ScopeIndex, StateIndex};
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

/// A type check of one transition: `fn ident(value: from) -> to { value }`.
pub(super) struct Wiring {
    key: EdgeKey,
    /// The transition's written target.
    span: Span,
    pub(super) ident: Ident,
    from: TokenStream,
    to: TokenStream,
    /// The field of `from` (a tuple) that has no values: the body takes it apart instead of
    /// returning the value.
    absurd: Option<usize>,
}

impl Wiring {
    pub(super) fn function(&self) -> TokenStream {
        let Wiring {
            span,
            ident,
            from,
            to,
            absurd,
            ..
        } = self;
        // Everything spanned at the transition's target: a mismatch is reported there, and
        // nowhere else.
        let from = respan(from.clone(), *span);
        let to = respan(to.clone(), *span);
        let body = match (absurd, self.key) {
            (Some(field), _) => {
                let field = syn::Index::from(*field);
                quote_spanned!(*span=> match value.#field {})
            }
            // A catch target takes `Caught<I>`, or the error alone in AWS's shape.
            (None, EdgeKey::Catch(..)) => {
                let p = private::path_at(*span);
                quote_spanned!(*span=> #p::FromCaught::from_caught(value))
            }
            (None, _) => quote_spanned!(*span=> value),
        };
        quote_spanned! {*span=>
            #[allow(non_snake_case, dead_code, clippy::inline_always)]
            #[inline(always)]
            fn #ident(value: #from) -> #to {
                #body
            }
        }
    }
}

/// The wiring of the transition `key`, if both its ends have known types.
pub(super) fn find(wirings: &[Wiring], key: EdgeKey) -> Option<&Wiring> {
    wirings.iter().find(|wiring| wiring.key == key)
}

/// `tokens` with every span set to `span`.
pub(super) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The type a transition's target receives (`None` for a Fail state that computes nothing:
/// anything goes); `End`
/// is the end of the scope the transition is in.
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

/// One wiring per transition whose both ends have known types.
pub(super) fn wirings(model: &Model<'_>, types: &Types) -> Vec<Wiring> {
    let p = private::path();
    let mut wirings = Vec::new();
    let mut add = |key: EdgeKey,
                   scope: ScopeIndex,
                   edge: Edge<'_>,
                   from: Option<TokenStream>,
                   label: String| {
        if let (Some(from), Some(to)) = (from, target_type(model, types, scope, edge.target)) {
            let absurd = match key {
                EdgeKey::Next(index) => types.uninhabited(index),
                _ => None,
            };
            wirings.push(Wiring {
                key,
                span: edge.written.span(),
                ident: format_ident!("__wire_{}", label),
                from,
                to,
                absurd,
            });
        }
    };
    for (scope, members) in model.scopes.iter_enumerated() {
        if let Some(edge) = members.start {
            let input = types.scope_input(scope).cloned();
            add(
                EdgeKey::Start(scope),
                scope,
                edge,
                input,
                format!("start{}", scope.raw()),
            );
        }
    }
    for (index, state) in model.states.iter_enumerated() {
        let name = &state.decl.name;
        let scope = state.scope;
        let output = types.output(index).cloned();
        if let Some(edge) = state.next {
            add(
                EdgeKey::Next(index),
                scope,
                edge,
                output.clone(),
                format!("{name}_next"),
            );
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
                add(
                    EdgeKey::Default(index),
                    scope,
                    edge,
                    output.clone(),
                    format!("{name}_default"),
                );
            }
        }
    }
    wirings
}
