//! Generating the workflow type, its definition and its typed state machine.
//!
//! The machine is an enum with one variant per state that does work (task, choice, wait,
//! pass), holding that state's typed input; Succeed and Fail states end the execution where
//! they are reached. Every transition passes its value through a tiny *wiring function* whose
//! parameter is the source's output type and whose return type is the target's input type,
//! spanned at the transition's target, which hands it on through a trait of the runtime that a
//! type meets by being the target's: a mismatch is one error, right at the arrow the user
//! wrote, saying what the workflow expects there (`wiring.rs`). Errors named in `retry`/`catch`
//! and the functions over a state's input are checked the same way, by functions spanned at
//! the user's tokens (`checks.rs`, `inputs.rs`).

mod advance;
mod arms;
mod checks;
mod definition;
mod inputs;
mod text;
mod type_doc;
mod wiring;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use super::index::{ScopeIndex, StateIndex};
use super::parse::{StateBody, WorkflowAst};
use super::types::Types;
use super::validate::Model;
use crate::diagnostics::Errors;
use crate::private;
use text::{expr_text, type_text};
use wiring::Wiring;

/// A model with what expansion derives from it.
struct Expansion<'m, 'a> {
    model: &'m Model<'a>,
    types: Types,
    wirings: Vec<Wiring>,
}

impl<'m, 'a> Expansion<'m, 'a> {
    fn new(model: &'m Model<'a>, errors: &mut Errors) -> Self {
        let types = Types::infer(
            model,
            &|index| step_alias(model, index).into_token_stream(),
            errors,
        );
        let wirings = wiring::wirings(model, &types);
        Expansion {
            model,
            types,
            wirings,
        }
    }

    /// The machine type of a scope.
    fn machine(&self, scope: ScopeIndex) -> Ident {
        scope_machine(self.model, scope)
    }

    /// The states of a scope that are variants of its machine: all but Succeed and Fail.
    fn variant_states(&self, scope: ScopeIndex) -> impl Iterator<Item = StateIndex> + '_ {
        self.model.scopes[scope]
            .states
            .iter()
            .copied()
            .filter(|&index| {
                !matches!(
                    self.model.state(index).body,
                    StateBody::Succeed | StateBody::Fail { .. }
                )
            })
    }
}

use quote::ToTokens as _;

/// The expansion of a workflow; on any error, the errors with a fallback that still declares
/// the type and still lets rustc check what can be checked.
pub(super) fn expand(model: &Model<'_>, errors: &mut Errors) -> TokenStream {
    let expansion = Expansion::new(model, errors);
    if !errors.is_empty() {
        return fallback(model.ast, Some(&expansion), errors);
    }
    full(&expansion)
}

/// The expansion when the states did not all parse: the errors and the type, nothing that
/// depends on the states.
pub(super) fn parse_failure(ast: &WorkflowAst, errors: &Errors) -> TokenStream {
    fallback(ast, None, errors)
}

fn full(expansion: &Expansion<'_, '_>) -> TokenStream {
    let ast = expansion.model.ast;
    let p = private::path();
    let name = &ast.name;
    let vis = &ast.vis;
    let attrs = &ast.attrs;
    let machine = expansion.machine(ScopeIndex::TOP);
    // One definition, built here: drawn into the docs, then embedded.
    let definition = definition::definition(expansion.model);
    let generated_doc = type_doc::states_doc(expansion.model) + &type_doc::diagram_doc(&definition);
    let (input_assoc, output_assoc) = associated_types(ast);
    let checks = checks(expansion);
    let payload_checks = payload_checks(ast);
    let bounds = payload_bounds(ast);
    let machines = expansion
        .model
        .scopes
        .indices()
        .map(|scope| machine_code(expansion, scope));
    // The task states and their steps, in one table that the definition, the requirements and
    // the check of a callback's output read: one entry a state, no code.
    let tasks = syn::Ident::new("TASKS", Span::mixed_site());
    let task_entries = task_states(expansion.model).map(|(index, step)| {
        let state_name = expansion.model.state(index).name.to_string();
        quote!(#p::TaskStep { state: #index, name: #state_name, step: #p::step_facts::<#step> })
    });
    let definition = definition::embedded(expansion.model, &definition, &tasks);
    let as_step = as_step(ast);
    let test_arms = expansion.model.scopes.indices().filter_map(|scope| {
        let states: Vec<StateIndex> = expansion.variant_states(scope).collect();
        if states.is_empty() {
            return None;
        }
        let machine = expansion.machine(scope);
        Some(quote!(#(#states)|* => #p::test_state_in::<#machine>(state, input, cx),))
    });
    let test_fail_arms = expansion.model.states.indices().filter_map(|index| {
        if !matches!(expansion.model.state(index).body, StateBody::Fail { .. })
            || expansion.model.state(index).takes_anything()
        {
            return None;
        }
        let input = expansion.types.input(index)?;
        let computes = inputs::fail_ident(expansion, index);
        Some(quote!(#index => #p::test_fail_in::<#input>(state, input, cx, #computes),))
    });

    quote! {
        #(#attrs)*
        #[doc = #generated_doc]
        #vis struct #name;

        #payload_checks

        const _: () = {
            const #tasks: &[#p::TaskStep] = &[#(#task_entries),*];
            #checks
            #(#machines)*
            #as_step

            impl #p::Workflow for #name #bounds {
                #input_assoc
                #output_assoc
                type Machine = #machine;

                fn definition() -> &'static #p::Definition {
                    static DEFINITION: #p::LazyLock<#p::Definition> = #p::LazyLock::new(|| #definition);
                    &DEFINITION
                }

                fn requirements(out: &mut ::std::vec::Vec<#p::StateRequirement>) {
                    #p::task_requirements(#tasks, out);
                }

                fn check_task_output(
                    state: #p::StateId,
                    output: &#p::JsonValue,
                ) -> ::core::option::Option<::core::result::Result<(), ::std::string::String>> {
                    #p::check_task_output(#tasks, state, output)
                }

                fn test_state<'c>(
                    state: #p::StateId,
                    input: #p::JsonValue,
                    cx: &'c #p::ExecutionContext<'_>,
                ) -> ::core::option::Option<#p::StateFuture<'c>> {
                    match state.0 {
                        #(#test_arms)*
                        #(#test_fail_arms)*
                        _ => {
                            let _ = (input, cx);
                            ::core::option::Option::None
                        }
                    }
                }
            }
        };
    }
}

/// The machine of a scope: the enum of its states and its `Machine` implementation.
fn machine_code(expansion: &Expansion<'_, '_>, scope: ScopeIndex) -> TokenStream {
    let p = private::path();
    // Only the workflow's own machine is named by its public `Workflow` impl. A branch's or an
    // iteration's, whose `Input` and `Output` name the steps, stays private: a public one
    // would leak a private step of a public workflow (E0446).
    let vis = if scope == ScopeIndex::TOP {
        expansion.model.ast.vis.to_token_stream()
    } else {
        TokenStream::new()
    };
    let machine = expansion.machine(scope);
    let (input, output) = if scope == ScopeIndex::TOP {
        (
            expansion.model.ast.input.to_token_stream(),
            expansion.model.ast.output.to_token_stream(),
        )
    } else {
        // Known: an unknown type is an error, and then this is not emitted.
        let known = |ty: Option<&TokenStream>| ty.cloned().unwrap_or_else(|| quote!(()));
        (
            known(expansion.types.scope_input(scope)),
            known(expansion.types.scope_output(scope)),
        )
    };
    // The workflow's own machine is a machine when the workflow's types are payloads.
    let bounds = if scope == ScopeIndex::TOP {
        payload_bounds(expansion.model.ast)
    } else {
        TokenStream::new()
    };
    let variants = expansion.variant_states(scope).map(|index| {
        let variant = &expansion.model.state(index).name;
        let ty = expansion.types.input(index);
        quote!(#variant(#ty))
    });
    let start = arms::start(expansion, scope);
    let arms: Vec<_> = expansion
        .variant_states(scope)
        .map(|index| arms::arm(expansion, index))
        .collect();
    let state_arms = expansion.variant_states(scope).map(|index| {
        let variant = &expansion.model.state(index).name;
        quote!(Self::#variant(_) => #p::StateId(#index),)
    });
    // A task state's input is its step's: read and written through the step, whose `Payload`
    // bounds hold whenever its signature's do, so that a type that is no payload is reported
    // once, at the step, and not again at every workflow running it.
    let enter_arms = expansion.variant_states(scope).map(|index| {
        let variant = &expansion.model.state(index).name;
        let read = match expansion.model.state(index).step() {
            Some(_) => {
                let step = step_alias(expansion.model, index);
                quote!(#p::step_input_from_json::<#step>)
            }
            None => quote!(#p::json_from_value),
        };
        quote!(#index => ::core::option::Option::Some(#read(input).map(Self::#variant)),)
    });
    let json_arms = expansion.variant_states(scope).map(|index| {
        let variant = &expansion.model.state(index).name;
        let write = match expansion.model.state(index).step() {
            Some(_) => {
                let step = step_alias(expansion.model, index);
                quote!(#p::step_input_to_json::<#step>)
            }
            None => quote!(#p::json_to_value),
        };
        quote!(Self::#variant(ref input) => #write(input),)
    });
    let advance::AdvanceCode {
        body: advance_body,
        groups: advance_groups,
    } = advance::advance(expansion, scope, &arms, &output, &bounds);
    quote! {
        #[allow(non_camel_case_types)]
        #[doc(hidden)]
        #vis enum #machine {
            #(#variants,)*
        }

        #advance_groups

        // A payload may be `()`, which the transitions pass on like any other value.
        #[allow(clippy::unit_arg)]
        impl #p::Machine for #machine #bounds {
            type Input = #input;
            type Output = #output;

            fn start(input: #input, cx: &#p::ExecutionContext<'_>) -> #p::Advance<Self, #output> {
                let _ = &cx;
                #start
            }

            fn advance<'c>(
                self,
                cx: &'c #p::ExecutionContext<'_>,
                once: bool,
            ) -> impl ::core::future::Future<Output = #p::Advance<Self, #output>> + ::core::marker::Send + 'c {
                #advance_body
            }

            fn state(&self) -> #p::StateId {
                match *self {
                    #(#state_arms)*
                }
            }

            fn enter(
                state: #p::StateId,
                input: #p::JsonValue,
            ) -> ::core::option::Option<::core::result::Result<Self, #p::JsonError>> {
                match state.0 {
                    #(#enter_arms)*
                    _ => {
                        let _ = input;
                        ::core::option::Option::None
                    }
                }
            }

            fn input_json(&self) -> ::core::result::Result<#p::JsonValue, #p::JsonError> {
                match *self {
                    #(#json_arms)*
                }
            }
        }
    }
}

/// What is emitted when there are errors: the errors, the workflow type (so code using it
/// does not pile up further errors), and the type checks of everything that could be resolved
/// (so type mismatches are reported in the same build).
fn fallback(
    ast: &WorkflowAst,
    expansion: Option<&Expansion<'_, '_>>,
    errors: &Errors,
) -> TokenStream {
    let p = private::path();
    let name = &ast.name;
    let vis = &ast.vis;
    let attrs = &ast.attrs;
    let input = &ast.input;
    let output = &ast.output;
    let machine = machine_ident(name);
    let (input_assoc, output_assoc) = associated_types(ast);
    let checks = expansion.map(checks).unwrap_or_default();
    let payload_checks = payload_checks(ast);
    let bounds = payload_bounds(ast);
    let as_step = as_step(ast);
    let errors = errors.to_compile_errors();
    quote! {
        #errors

        #(#attrs)*
        #vis struct #name;

        #payload_checks

        const _: () = {
            #checks
            #as_step

            #[doc(hidden)]
            #vis enum #machine {}

            impl #p::Workflow for #name #bounds {
                #input_assoc
                #output_assoc
                type Machine = #machine;

                fn definition() -> &'static #p::Definition {
                    ::core::unreachable!()
                }

                fn requirements(_: &mut ::std::vec::Vec<#p::StateRequirement>) {}
            }

            impl #p::Machine for #machine #bounds {
                type Input = #input;
                type Output = #output;

                fn start(_: #input, _: &#p::ExecutionContext<'_>) -> #p::Advance<Self, #output> {
                    ::core::unreachable!()
                }

                fn advance<'c>(
                    self,
                    _: &'c #p::ExecutionContext<'_>,
                    _: bool,
                ) -> impl ::core::future::Future<Output = #p::Advance<Self, #output>> + ::core::marker::Send + 'c {
                    async move { match self {} }
                }

                fn state(&self) -> #p::StateId {
                    match *self {}
                }
            }
        };
    }
}

/// Everything rustc checks for us, needed by the full expansion and emitted by the fallback
/// too: step aliases, wiring functions, error-type checks, the functions over states' inputs,
/// and constant assertions on steps' settings. All are items of the expansion's block, so
/// every machine in it can call them.
fn checks(expansion: &Expansion<'_, '_>) -> TokenStream {
    let aliases = step_aliases(expansion.model);
    let workflow = &expansion.model.ast.name;
    let wiring_fns = expansion
        .wirings
        .iter()
        .map(|wiring| wiring.function(workflow));
    let error_checks = checks::error_checks(expansion.model);
    let input_functions = inputs::functions(expansion);
    let timing_checks = checks::timing_checks(expansion.model);
    quote! {
        #aliases
        #timing_checks
        #(#wiring_fns)*
        #error_checks
        #input_functions
    }
}

/// `type Input = ...;` and `type Output = ...;`, spanned at the user's types so that problems
/// with them (a private type in a public workflow, a type that is not a payload) point there.
fn associated_types(ast: &WorkflowAst) -> (TokenStream, TokenStream) {
    let input = &ast.input;
    let output = &ast.output;
    (
        quote_spanned!(input.span()=> type Input = #input;),
        quote_spanned!(output.span()=> type Output = #output;),
    )
}

/// The where-clause of the impls naming the workflow's input and output types: that both are
/// payloads. Written under a binder (`for<'__payload>`) so that rustc takes it as a condition
/// of the impl rather than checking it there; [`payload_checks`] reports a type that is not a
/// payload, once, at the type, instead of once per impl and per serde trait.
fn payload_bounds(ast: &WorkflowAst) -> TokenStream {
    let p = private::path();
    let (input, output) = (&ast.input, &ast.output);
    quote! {
        where
            for<'__payload> #input: #p::Payload,
            for<'__payload> #output: #p::Payload,
    }
}

/// That the workflow's input and output types are payloads, checked at the user's tokens.
fn payload_checks(ast: &WorkflowAst) -> TokenStream {
    let checks = [&ast.input, &ast.output].into_iter().map(|ty| {
        let p = private::path_at(ty.span());
        quote_spanned!(ty.span()=> const _: fn() = #p::payload::<#ty>;)
    });
    quote!(#(#checks)*)
}

/// `impl Step` for the workflow type, so that a task of another workflow can run it as a child
/// execution: `Child: task OtherWorkflow -> Next;`.
fn as_step(ast: &WorkflowAst) -> TokenStream {
    let p = private::path();
    let name = &ast.name;
    let name_text = name.to_string();
    let doc = option_str(crate::docs::doc_text(&ast.attrs));
    // Spanned like the workflow's own associated types, so that a private payload type in a
    // public workflow is reported once, at the type.
    let (input, output) = (&ast.input, &ast.output);
    let input_assoc = quote_spanned!(input.span()=> type Input = <Self as #p::Workflow>::Input;);
    let output_assoc =
        quote_spanned!(output.span()=> type Output = <Self as #p::Workflow>::Output;);
    let bounds = payload_bounds(ast);
    quote! {
        impl #p::Step for #name #bounds {
            #input_assoc
            #output_assoc
            type Error = #p::ChildFailure;
            type Returned = <Self as #p::Workflow>::Output;

            const INFO: #p::StepInfo = #p::StepInfo::__new(
                #name_text,
                ::core::concat!(::core::module_path!(), "::", #name_text),
                ::core::option::Option::None,
                ::core::option::Option::None,
                #doc,
            );
            const CHILD_WORKFLOW: bool = true;

            fn requirements(out: &mut ::std::vec::Vec<#p::Requirement>) {
                #p::child_requirements::<Self>(out);
            }

            fn error_names() -> ::std::vec::Vec<::std::string::String> {
                #p::workflow_error_names(<Self as #p::Workflow>::definition())
            }

            fn into_output(
                returned: <Self as #p::Workflow>::Output,
            ) -> ::core::result::Result<<Self as #p::Workflow>::Output, #p::Callback<<Self as #p::Workflow>::Output>> {
                ::core::result::Result::Ok(returned)
            }

            fn call(
                input: <Self as #p::Step>::Input,
                env: &#p::StepEnv<'_>,
            ) -> ::core::result::Result<
                impl ::core::future::Future<
                    Output = ::core::result::Result<<Self as #p::Step>::Output, #p::ChildFailure>,
                > + ::core::marker::Send + 'static,
                #p::ArgumentError,
            > {
                ::core::result::Result::Ok(#p::run_child::<Self>(env, input))
            }
        }
    }
}

fn machine_ident(name: &Ident) -> Ident {
    format_ident!("__{}Machine", name)
}

/// The machine of scope 0 is the workflow's; each branch's is named after its state.
fn scope_machine(model: &Model<'_>, scope: ScopeIndex) -> Ident {
    match model.scopes[scope].owner {
        Some((owner, number)) => format_ident!(
            "__{}Machine_{}_{}",
            model.ast.name,
            model.state(owner).name,
            number
        ),
        None => machine_ident(&model.ast.name),
    }
}

/// The task states, each with the alias naming its step type.
fn task_states<'m>(model: &'m Model<'_>) -> impl Iterator<Item = (StateIndex, Ident)> + 'm {
    model.states.indices().filter_map(|index| {
        model
            .state(index)
            .step()
            .map(|_| (index, step_alias(model, index)))
    })
}

/// The alias through which generated code names a task state's step type. Naming the step
/// once means a path that is not a step is reported once, at the user's token.
fn step_alias(model: &Model<'_>, index: StateIndex) -> Ident {
    format_ident!("__step_{}", model.state(index).name)
}

fn step_aliases(model: &Model<'_>) -> TokenStream {
    let aliases = model.states.indices().filter_map(|index| {
        let step = model.state(index).step()?;
        let alias = step_alias(model, index);
        Some(quote_spanned! {step.span()=>
            #[allow(non_camel_case_types)]
            type #alias = #step;
        })
    });
    quote!(#(#aliases)*)
}

fn option_str(text: Option<String>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}
