//! Type flow: the Rust type of every state's input and output, as type expressions.
//!
//! A task's types come from its step (`<step as Step>::Input`). A Choice, Wait or Pass state
//! passes data through, so its input type is taken from an annotation where the user wrote
//! one (`|order: &Order| ...`) and otherwise from a state that leads into it; rustc then
//! checks every other transition into it against that type. A state whose type cannot be
//! worked out either way is reported.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Expr, ExprClosure, Pat, ReturnType, Type};

use super::parse::{StateBody, WaitFor};
use super::validate::{Model, Target};
use crate::diagnostics::Errors;

/// The input and output type of every state of a model (indices as in `Model::states`).
pub(super) struct Types {
    input: Vec<Option<TokenStream>>,
    output: Vec<Option<TokenStream>>,
}

impl Types {
    /// The type a state receives; `None` for a Fail state (which accepts anything).
    pub(super) fn input(&self, index: usize) -> Option<&TokenStream> {
        self.input[index].as_ref()
    }

    /// The type a state hands on; `None` when only rustc knows it (a Pass state's function
    /// without a return type annotation).
    pub(super) fn output(&self, index: usize) -> Option<&TokenStream> {
        self.output[index].as_ref()
    }

    pub(super) fn infer(
        model: &Model<'_>,
        aliases: &dyn Fn(usize) -> TokenStream,
        errors: &mut Errors,
    ) -> Types {
        let p = quote!(::workflow::__private);
        let count = model.states.len();
        let mut types = Types {
            input: vec![None; count],
            output: vec![None; count],
        };
        for index in 0..count {
            match &model.state(index).body {
                StateBody::Task { .. } => {
                    let step = aliases(index);
                    types.input[index] = Some(quote!(<#step as #p::Step>::Input));
                    types.output[index] = Some(quote!(<#step as #p::Step>::Output));
                }
                StateBody::Succeed => types.input[index] = Some(model.ast.output.to_token_stream()),
                StateBody::Choice { rules, .. } => {
                    types.input[index] = rules
                        .iter()
                        .find_map(|rule| referenced_param(&rule.predicate));
                }
                StateBody::Wait {
                    wait: WaitFor::Until(selector),
                    ..
                } => types.input[index] = referenced_param(selector),
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
                StateBody::Wait { .. } | StateBody::Pass { .. } | StateBody::Fail { .. } => {}
            }
        }
        if let Some(Target::State(start)) = model.start.map(|edge| edge.target) {
            types.take(start, model, || Some(model.ast.input.to_token_stream()));
        }
        // Propagate along transitions until nothing changes; each round fixes at least one
        // type or ends, so this takes at most one round per state.
        loop {
            let mut changed = false;
            for index in 0..count {
                if passes_through(&model.state(index).body)
                    && types.output[index].is_none()
                    && types.input[index].is_some()
                {
                    types.output[index] = types.input[index].clone();
                    changed = true;
                }
                let state = &model.states[index];
                let plain = state.next.iter().chain(
                    state
                        .choice
                        .iter()
                        .flat_map(|choice| choice.rules.iter().chain(&choice.default)),
                );
                let output = types.output[index].clone();
                for edge in plain {
                    if let Target::State(target) = edge.target {
                        changed |= types.take(target, model, || output.clone());
                    }
                }
                let catches = state.task.iter().flat_map(|task| task.catches.iter());
                for catch in catches {
                    if let Target::State(target) = catch.edge.target {
                        let caught = types.input[index]
                            .as_ref()
                            .map(|input| quote!(#p::Caught<#input>));
                        changed |= types.take(target, model, || caught.clone());
                    }
                }
            }
            if !changed {
                break;
            }
        }
        for index in 0..count {
            let decl = model.state(index);
            let hint = match &decl.body {
                StateBody::Choice { .. } => "annotate a rule's parameter: `|input: &Type| condition => State`",
                StateBody::Wait { .. } => "use `wait until |input: &Type| ...`, or reach it from a state whose output type is known",
                StateBody::Pass { .. } => "annotate the function: `pass |input: Type| -> Output { ... }`",
                _ => continue,
            };
            if types.input[index].is_none() {
                errors.at(
                    decl.name.span(),
                    format!(
                        "cannot work out the input type of state `{}`: no annotation gives it and no transition into it comes from a state with a known output type; {hint}",
                        decl.name
                    ),
                );
            }
        }
        types
    }

    /// Sets the input type of `target` from `source`, unless it is known or needs none.
    fn take(
        &mut self,
        target: usize,
        model: &Model<'_>,
        source: impl FnOnce() -> Option<TokenStream>,
    ) -> bool {
        if self.input[target].is_some()
            || matches!(model.state(target).body, StateBody::Fail { .. })
        {
            return false;
        }
        match source() {
            Some(ty) => {
                self.input[target] = Some(ty);
                true
            }
            None => false,
        }
    }
}

/// States whose output is their input.
fn passes_through(body: &StateBody) -> bool {
    matches!(
        body,
        StateBody::Choice { .. }
            | StateBody::Wait { .. }
            | StateBody::Pass {
                transform: None,
                ..
            }
    )
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
fn referenced_param(expr: &Expr) -> Option<TokenStream> {
    match closure(expr).and_then(first_param)? {
        Type::Reference(reference) => Some(reference.elem.to_token_stream()),
        _ => None,
    }
}
