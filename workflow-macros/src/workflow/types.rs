//! Type flow: the Rust type of every state's input and output, as type expressions.
//!
//! A task's types come from its step (`<step as Step>::Input`), a Pass state's from its
//! function's annotations (`pass |order: Order| -> Receipt { ... }`). Any other state takes
//! what flows into it: its input type is that of a state that leads into it, and rustc checks
//! every other transition into it, and every function over its input (`|order: &Order| ...`),
//! against that type; only when nothing flows in does such a function's annotation give it.
//! Choice, Wait and Pass states pass data through. The same goes for the input and output of
//! each Parallel branch and Map iteration (a *scope*): a Parallel state's output is the tuple
//! of its branches' outputs, a Map state's the `Vec` of its iteration's. A type that cannot be
//! worked out either way is reported.
//!
//! A branch or iteration that never succeeds (no `-> end`, no Succeed state: it only reaches
//! Fail states) outputs `Never`, the type without values; a Parallel state with such a branch
//! outputs a tuple holding a `Never`, which no value ever has, so its own transition is checked
//! by a wiring that takes that field apart (`match value.N {}`) into whatever the target takes.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Expr, ExprClosure, Pat, ReturnType, Type};

use super::index::{IndexVec, ScopeIndex, StateIndex};
use super::parse::{StateBody, WaitFor};
use super::validate::{Model, Target};
use crate::diagnostics::Errors;
use crate::private;

/// The input and output type of every state and scope of a model.
pub(super) struct Types {
    input: IndexVec<StateIndex, Option<TokenStream>>,
    output: IndexVec<StateIndex, Option<TokenStream>>,
    scope_input: IndexVec<ScopeIndex, Option<TokenStream>>,
    scope_output: IndexVec<ScopeIndex, Option<TokenStream>>,
    /// Per Parallel state, the position in its output tuple of a branch that never succeeds.
    uninhabited: IndexVec<StateIndex, Option<usize>>,
}

impl Types {
    /// The type a state receives; `None` for a Fail state that works nothing out from its input
    /// (it accepts anything).
    pub(super) fn input(&self, index: StateIndex) -> Option<&TokenStream> {
        self.input[index].as_ref()
    }

    /// The type a state hands on; `None` when only rustc knows it (a Pass state's function
    /// without a return type annotation).
    pub(super) fn output(&self, index: StateIndex) -> Option<&TokenStream> {
        self.output[index].as_ref()
    }

    /// What a scope starts with: the workflow's input, a branch's input, a Map item.
    pub(super) fn scope_input(&self, scope: ScopeIndex) -> Option<&TokenStream> {
        self.scope_input[scope].as_ref()
    }

    /// What a scope ends with.
    pub(super) fn scope_output(&self, scope: ScopeIndex) -> Option<&TokenStream> {
        self.scope_output[scope].as_ref()
    }

    /// For a Parallel state with a branch that never succeeds, that branch's position in the
    /// output tuple: the state never succeeds and its output has no values.
    pub(super) fn uninhabited(&self, index: StateIndex) -> Option<usize> {
        self.uninhabited[index]
    }

    pub(super) fn infer(
        model: &Model<'_>,
        aliases: &dyn Fn(StateIndex) -> TokenStream,
        errors: &mut Errors,
    ) -> Types {
        let p = private::path();
        let count = model.states.len();
        let scopes = model.scopes.len();
        let mut types = Types {
            input: IndexVec::filled(None, count),
            output: IndexVec::filled(None, count),
            scope_input: IndexVec::filled(None, scopes),
            scope_output: IndexVec::filled(None, scopes),
            uninhabited: IndexVec::filled(None, count),
        };
        if scopes > 0 {
            types.scope_input[ScopeIndex::TOP] = Some(model.ast.input.to_token_stream());
            types.scope_output[ScopeIndex::TOP] = Some(model.ast.output.to_token_stream());
        }
        let never: IndexVec<ScopeIndex, bool> = model
            .scopes
            .indices()
            .map(|scope| scope != ScopeIndex::TOP && never_succeeds(model, scope))
            .collect();
        for (scope, &never) in never.iter_enumerated() {
            if never {
                types.scope_output[scope] = Some(quote!(#p::Never));
            }
        }
        for index in model.states.indices() {
            match &model.state(index).body {
                StateBody::Task { .. } => {
                    let step = aliases(index);
                    types.input[index] = Some(quote!(<#step as #p::Step>::Input));
                    types.output[index] = Some(quote!(<#step as #p::Step>::Output));
                }
                // The functions over a Choice, Wait, Map or Fail state's input do not set it:
                // what flows into the state does, and a function over another type is reported
                // at its parameter. Only when nothing flows in does an annotation give the type
                // (see below).
                StateBody::Map { items, .. } => {
                    if let Some(iteration) = model.states[index].iteration() {
                        types.scope_input[iteration] = returned_item(items);
                    }
                }
                StateBody::Parallel { .. } => {
                    types.uninhabited[index] = model.states[index]
                        .branches
                        .iter()
                        .position(|&branch| never[branch]);
                }
                StateBody::Pass {
                    transform: Some(transform),
                    ..
                } => {
                    types.input[index] = closure(transform)
                        .and_then(first_param)
                        .map(ToTokens::to_token_stream);
                    types.output[index] =
                        closure(transform).and_then(|closure| match &closure.output {
                            ReturnType::Type(_, ty) => Some(ty.to_token_stream()),
                            ReturnType::Default => None,
                        });
                }
                _ => {}
            }
        }
        // Propagate until nothing changes; every round fixes at least one type or ends. Then
        // the first state still without an input takes the type a function over it annotates,
        // and propagation goes on from there.
        loop {
            while types.round(model) {}
            if !types.annotated_input(model) {
                break;
            }
        }
        types.report(model, errors);
        types
    }

    /// Gives the first state whose input is unknown the type a function over its input
    /// annotates (`|order: &Order| ...`); whether there was one.
    fn annotated_input(&mut self, model: &Model<'_>) -> bool {
        model.states.indices().any(|index| {
            self.input[index].is_none() && fill(&mut self.input[index], annotated(model, index))
        })
    }

    /// One round of propagation; whether anything changed.
    fn round(&mut self, model: &Model<'_>) -> bool {
        let p = private::path();
        let mut changed = false;
        for (scope, members) in model.scopes.iter_enumerated() {
            if let Some(Target::State(start)) = members.start.map(|edge| edge.target) {
                changed |= set(
                    &mut self.input[start],
                    self.scope_input[scope].clone(),
                    model,
                    start,
                );
                // A Map iteration takes what its start takes, unless its selector says; a
                // Parallel branch takes its state's input, which its start is checked against.
                let parallel = members.owner.is_some_and(|(owner, _)| {
                    matches!(model.state(owner).body, StateBody::Parallel { .. })
                });
                if !parallel && !takes_anything(model, start) {
                    changed |= fill(&mut self.scope_input[scope], self.input[start].clone());
                }
            }
        }
        for (index, state) in model.states.iter_enumerated() {
            let scope = state.scope;
            match &state.decl.body {
                StateBody::Choice { .. }
                | StateBody::Wait { .. }
                | StateBody::Pass {
                    transform: None, ..
                } => {
                    changed |= fill(&mut self.output[index], self.input[index].clone());
                }
                StateBody::Succeed => {
                    changed |= fill(&mut self.input[index], self.scope_output[scope].clone());
                    changed |= fill(&mut self.scope_output[scope], self.input[index].clone());
                }
                StateBody::Parallel { .. } => {
                    for &branch in &state.branches {
                        changed |= fill(&mut self.scope_input[branch], self.input[index].clone());
                    }
                    let outputs: Option<Vec<TokenStream>> = state
                        .branches
                        .iter()
                        .map(|&branch| self.scope_output[branch].clone())
                        .collect();
                    if let Some(outputs) = outputs {
                        changed |= fill(&mut self.output[index], Some(quote!((#(#outputs,)*))));
                    }
                }
                StateBody::Map { .. } => {
                    let iteration = state.iteration();
                    let item = iteration.and_then(|scope| self.scope_input[scope].clone());
                    let out = iteration.and_then(|scope| self.scope_output[scope].clone());
                    let tolerant = state.task.as_ref().is_some_and(|task| task.tolerates());
                    let output = match (out, item, tolerant) {
                        (Some(out), _, false) => Some(quote!(::std::vec::Vec<#out>)),
                        (Some(out), Some(item), true) => Some(
                            quote!(::std::vec::Vec<::core::result::Result<#out, #p::Caught<#item>>>),
                        ),
                        _ => None,
                    };
                    changed |= fill(&mut self.output[index], output);
                }
                _ => {}
            }
        }
        // Then along transitions, so that a state's own derivations above come first.
        for (index, state) in model.states.iter_enumerated() {
            let scope = state.scope;
            let output = self.output[index].clone();
            let plain = state.next.iter().chain(
                state
                    .choice
                    .iter()
                    .flat_map(|choice| choice.rules.iter().chain(&choice.default)),
            );
            for edge in plain {
                match edge.target {
                    Target::State(target) => {
                        changed |= set(&mut self.input[target], output.clone(), model, target)
                    }
                    Target::End => changed |= fill(&mut self.scope_output[scope], output.clone()),
                    Target::Unknown { .. } => {}
                }
            }
            for catch in state.task.iter().flat_map(|task| task.catches.iter()) {
                if let Target::State(target) = catch.edge.target {
                    let caught = self.input[index]
                        .as_ref()
                        .map(|input| quote!(#p::Caught<#input>));
                    changed |= set(&mut self.input[target], caught, model, target);
                }
            }
        }
        changed
    }

    /// Errors for every type that could not be worked out.
    fn report(&self, model: &Model<'_>, errors: &mut Errors) {
        for (index, state) in model.states.iter_enumerated() {
            let decl = state.decl;
            let hint = match &decl.body {
                StateBody::Choice { .. } => "annotate a rule's parameter: `|input: &Type| condition => State`",
                StateBody::Wait { .. } => "use `wait until |input: &Type| ...`, or reach it from a state whose output type is known",
                StateBody::Pass { .. } => "annotate the function: `pass |input: Type| -> Output { ... }`",
                StateBody::Map { .. } => "annotate the selector: `map |input: &Type| ... { ... }`",
                StateBody::Parallel { .. } => "reach it from a state whose output type is known",
                StateBody::Fail { .. } if !decl.takes_anything() => "annotate the function: `fail |input: &Type| ...`",
                _ => "",
            };
            if !hint.is_empty() && self.input[index].is_none() {
                errors.at(
                    decl.name.span(),
                    format!(
                        "cannot work out the input type of state `{}`: no annotation gives it and no transition into it comes from a state with a known output type; {hint}",
                        decl.name
                    ),
                );
                continue;
            }
            for (number, &branch) in state.branches.iter().enumerate() {
                if model.scopes[branch].start.is_none() {
                    // Its missing start is reported; its types follow from it.
                    continue;
                }
                let what = match &decl.body {
                    StateBody::Map { .. } => "the iteration".to_owned(),
                    _ => format!("branch {number}"),
                };
                if self.scope_input[branch].is_none() {
                    let hint = match &decl.body {
                        StateBody::Map { .. } => ", or annotate the selector's return type: `map |input: &Type| -> Vec<Item> { ... } { ... }`",
                        _ => "",
                    };
                    errors.at(
                        decl.name.span(),
                        format!("cannot work out what {what} of state `{}` takes: start it with a task, whose step gives the type{hint}", decl.name),
                    );
                } else if self.scope_output[branch].is_none() {
                    errors.at(
                        decl.name.span(),
                        format!("cannot work out what {what} of state `{}` outputs: end it with a task (`-> end`), whose step gives the type", decl.name),
                    );
                }
            }
        }
    }
}

/// Sets a state's input if it is unknown and the state needs one.
fn set(
    slot: &mut Option<TokenStream>,
    value: Option<TokenStream>,
    model: &Model<'_>,
    target: StateIndex,
) -> bool {
    !takes_anything(model, target) && fill(slot, value)
}

fn fill(slot: &mut Option<TokenStream>, value: Option<TokenStream>) -> bool {
    if slot.is_none() && value.is_some() {
        *slot = value;
        true
    } else {
        false
    }
}

/// Whether a branch or iteration can never succeed: none of its states is a Succeed state or
/// goes to `end`, so every path through it fails.
fn never_succeeds(model: &Model<'_>, scope: ScopeIndex) -> bool {
    model.scopes[scope].start.is_some()
        && model.scopes[scope].states.iter().all(|&index| {
            !matches!(model.state(index).body, StateBody::Succeed)
                && model
                    .edges(index)
                    .all(|edge| !matches!(edge.target, Target::End))
        })
}

/// The type the functions over a state's input annotate, the first that does: a Choice
/// state's predicates, a Wait state's function, a Map state's selector and settings, a Fail
/// state's functions.
fn annotated(model: &Model<'_>, index: StateIndex) -> Option<TokenStream> {
    let state = &model.states[index];
    match &state.decl.body {
        StateBody::Choice { rules, .. } => rules
            .iter()
            .find_map(|rule| referenced_param(&rule.predicate)),
        StateBody::Wait {
            wait: WaitFor::Until(function) | WaitFor::DurationFrom(function),
            ..
        } => referenced_param(function),
        StateBody::Map { items, .. } => {
            let computed = state
                .task
                .as_ref()
                .map(|task| task.computed)
                .unwrap_or_default();
            [
                Some(items),
                computed.max_concurrency,
                computed.tolerated_count,
                computed.tolerated_percentage,
            ]
            .into_iter()
            .flatten()
            .find_map(referenced_param)
        }
        StateBody::Fail { .. } => state.decl.fail_functions().find_map(referenced_param),
        _ => None,
    }
}

fn takes_anything(model: &Model<'_>, index: StateIndex) -> bool {
    model.state(index).takes_anything()
}

fn closure(expr: &Expr) -> Option<&ExprClosure> {
    match expr {
        Expr::Closure(closure) => Some(closure),
        Expr::Paren(inner) => closure(&inner.expr),
        _ => None,
    }
}

fn first_param(closure: &ExprClosure) -> Option<&Type> {
    match closure.inputs.first()? {
        Pat::Type(typed) => Some(&typed.ty),
        _ => None,
    }
}

/// `T` from a closure whose first parameter is annotated `&T`.
pub(super) fn referenced_type(expr: &Expr) -> Option<&Type> {
    match closure(expr).and_then(first_param)? {
        Type::Reference(reference) => Some(&reference.elem),
        _ => None,
    }
}

/// `T` from a closure whose first parameter is annotated `&T`, as tokens.
fn referenced_param(expr: &Expr) -> Option<TokenStream> {
    match closure(expr).and_then(first_param)? {
        Type::Reference(reference) => Some(reference.elem.to_token_stream()),
        _ => None,
    }
}

/// `T` from a selector whose return type is annotated `Vec<T>`: `|o: &Order| -> Vec<Line> { ... }`.
fn returned_item(expr: &Expr) -> Option<TokenStream> {
    let ReturnType::Type(_, ty) = &closure(expr)?.output else {
        return None;
    };
    let Type::Path(path) = &**ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            syn::GenericArgument::Type(item) => Some(item.to_token_stream()),
            _ => None,
        },
        _ => None,
    }
}
