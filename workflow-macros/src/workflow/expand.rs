//! Generating the workflow type, its definition and its typed state machine.
//!
//! The machine is an enum with one variant per task state holding that state's typed input.
//! Every transition passes its value through a tiny *wiring function* whose parameter is the
//! source's output type and whose return type is the target's input type, spanned at the
//! transition's target: rustc then reports a type mismatch right at the arrow the user wrote.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Ident;

use super::parse::{StateBody, WorkflowAst};
use super::validate::{Edge, Mode, Model, Target};
use crate::diagnostics::Errors;
use crate::docs::doc_text;

const PRIVATE: &str = "::workflow::__private";

fn private() -> TokenStream {
    PRIVATE.parse().unwrap_or_default()
}

/// The full expansion of a valid workflow.
pub(super) fn expand(model: &Model<'_>) -> TokenStream {
    let ast = model.ast;
    let p = private();
    let name = &ast.name;
    let vis = &ast.vis;
    let attrs = &ast.attrs;
    let input = &ast.input;
    let output = &ast.output;
    let machine = machine_ident(name);
    let generated_doc = generated_doc(model);
    let (input_assoc, output_assoc) = associated_types(ast);
    let aliases = step_aliases(model);
    let wirings = wirings(model);
    let wiring_fns = wirings.iter().map(Wiring::function);

    let variants = task_states(model).map(|(index, step)| {
        let variant = &model.state(index).name;
        quote!(#variant(<#step as #p::Step>::Input))
    });
    let start = match model.start {
        Some(edge) => transition(model, &wirings, EdgeKey::Start, edge, &quote!(input)),
        None => quote!(::core::unreachable!()),
    };
    let arms = task_states(model).map(|(index, step)| {
        let variant = &model.state(index).name;
        let next = match model.states[index].next {
            Some(edge) => transition(model, &wirings, EdgeKey::Next(index), edge, &quote!(value)),
            None => quote!(::core::unreachable!()),
        };
        quote! {
            Self::#variant(input) => match #p::run_task::<#step>(cx, #p::StateId(#index), input).await {
                ::core::result::Result::Ok(value) => #next,
                ::core::result::Result::Err(failure) => #p::Advance::Failed(failure),
            },
        }
    });
    let state_arms = task_states(model).map(|(index, _)| {
        let variant = &model.state(index).name;
        quote!(Self::#variant(_) => #p::StateId(#index),)
    });
    let definition = definition(model);
    let requirements = task_states(model).map(|(index, step)| {
        let state_name = model.state(index).name.to_string();
        quote!(#p::task_requirements::<#step>(#state_name, out);)
    });

    quote! {
        #(#attrs)*
        #[doc = #generated_doc]
        #vis struct #name;

        const _: () = {
            #aliases

            #[allow(non_camel_case_types)]
            #[doc(hidden)]
            #vis enum #machine {
                #(#variants,)*
            }

            #[allow(non_snake_case)]
            impl #machine {
                #(#wiring_fns)*
            }

            impl #p::Workflow for #name {
                #input_assoc
                #output_assoc
                type Machine = #machine;

                fn definition() -> &'static #p::Definition {
                    static DEFINITION: #p::LazyLock<#p::Definition> = #p::LazyLock::new(|| #definition);
                    &DEFINITION
                }

                fn requirements(out: &mut ::std::vec::Vec<#p::StateRequirement>) {
                    let _ = &out;
                    #(#requirements)*
                }
            }

            impl #p::Machine for #machine {
                type Workflow = #name;

                fn start(
                    input: #input,
                    cx: &mut #p::ExecutionContext<'_>,
                ) -> #p::Advance<Self, #output> {
                    let _ = &cx;
                    #start
                }

                fn advance<'c>(
                    self,
                    cx: &'c mut #p::ExecutionContext<'_>,
                ) -> impl ::core::future::Future<Output = #p::Advance<Self, #output>> + ::core::marker::Send + 'c {
                    async move {
                        let _ = &cx;
                        match self {
                            #(#arms)*
                        }
                    }
                }

                fn state(&self) -> #p::StateId {
                    match *self {
                        #(#state_arms)*
                    }
                }
            }
        };
    }
}

/// What is emitted when validation failed: the errors, the workflow type (so code using it
/// does not pile up further errors), and the wiring functions of every transition that could be
/// resolved (so type mismatches are reported in the same build).
pub(super) fn fallback(
    ast: &WorkflowAst,
    model: Option<&Model<'_>>,
    errors: &Errors,
) -> TokenStream {
    let p = private();
    let name = &ast.name;
    let vis = &ast.vis;
    let attrs = &ast.attrs;
    let input = &ast.input;
    let output = &ast.output;
    let machine = machine_ident(name);
    let (input_assoc, output_assoc) = associated_types(ast);
    let wiring_fns = model
        .map(|model| {
            wirings(model)
                .iter()
                .map(Wiring::function)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let aliases = model.map(step_aliases).unwrap_or_default();
    let errors = errors.to_compile_errors();
    quote! {
        #errors

        #(#attrs)*
        #vis struct #name;

        const _: () = {
            #aliases

            #[doc(hidden)]
            #vis enum #machine {}

            #[allow(non_snake_case, dead_code)]
            impl #machine {
                #(#wiring_fns)*
            }

            impl #p::Workflow for #name {
                #input_assoc
                #output_assoc
                type Machine = #machine;

                fn definition() -> &'static #p::Definition {
                    ::core::unreachable!()
                }

                fn requirements(_: &mut ::std::vec::Vec<#p::StateRequirement>) {}
            }

            impl #p::Machine for #machine {
                type Workflow = #name;

                fn start(_: #input, _: &mut #p::ExecutionContext<'_>) -> #p::Advance<Self, #output> {
                    ::core::unreachable!()
                }

                fn advance<'c>(
                    self,
                    _: &'c mut #p::ExecutionContext<'_>,
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

fn machine_ident(name: &Ident) -> Ident {
    format_ident!("__{}Machine", name)
}

/// The task states, each with the alias naming its step type.
fn task_states<'m>(model: &'m Model<'_>) -> impl Iterator<Item = (usize, Ident)> + 'm {
    (0..model.states.len()).filter_map(|index| model.state(index).step().map(|_| (index, step_alias(model, index))))
}

/// The alias through which generated code names a task state's step type. Naming the step
/// once means a path that is not a step is reported once, at the user's token.
fn step_alias(model: &Model<'_>, index: usize) -> Ident {
    format_ident!("__step_{}", model.state(index).name)
}

fn step_aliases(model: &Model<'_>) -> TokenStream {
    let aliases = (0..model.states.len()).filter_map(|index| {
        let step = model.state(index).step()?;
        let alias = step_alias(model, index);
        Some(quote_spanned! {step.span()=>
            #[allow(non_camel_case_types)]
            type #alias = #step;
        })
    });
    quote!(#(#aliases)*)
}

/// Which transition a wiring checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKey {
    /// From the workflow's input to the start state.
    Start,
    /// From a task state (by index) to its next state.
    Next(usize),
}

/// A type check of one transition: `fn ident(value: from) -> to { value }`.
struct Wiring {
    key: EdgeKey,
    /// The transition's written target.
    span: Span,
    ident: Ident,
    from: TokenStream,
    to: TokenStream,
}

impl Wiring {
    fn function(&self) -> TokenStream {
        let Wiring {
            span,
            ident,
            from,
            to,
            ..
        } = self;
        // Everything spanned at the transition's target: a mismatch is reported there, and
        // nowhere else.
        let from = respan(from.clone(), *span);
        let to = respan(to.clone(), *span);
        quote_spanned! {*span=>
            #[inline(always)]
            fn #ident(value: #from) -> #to {
                value
            }
        }
    }
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner = proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The type of a state's input, if it has a typed one (a Fail state accepts anything).
fn input_type(model: &Model<'_>, target: Target) -> Option<TokenStream> {
    let p = private();
    match target {
        Target::State(index) => match &model.state(index).body {
            StateBody::Task { .. } => {
            let alias = step_alias(model, index);
            Some(quote!(<#alias as #p::Step>::Input))
        }
            StateBody::Succeed => Some(model.ast.output.to_token_stream()),
            StateBody::Fail { .. } => None,
        },
        Target::End => Some(model.ast.output.to_token_stream()),
        Target::Unknown { .. } => None,
    }
}

/// One wiring per transition whose both ends are typed.
fn wirings(model: &Model<'_>) -> Vec<Wiring> {
    let p = private();
    let mut wirings = Vec::new();
    let mut add = |key: EdgeKey, edge: Edge<'_>, from: TokenStream, label: String| {
        if let Some(to) = input_type(model, edge.target) {
            wirings.push(Wiring {
                key,
                span: edge.written.span(),
                ident: format_ident!("__wire_{}", label),
                from,
                to,
            });
        }
    };
    if let Some(edge) = model.start {
        add(
            EdgeKey::Start,
            edge,
            model.ast.input.to_token_stream(),
            "start".to_owned(),
        );
    }
    for (index, step) in task_states(model) {
        if let Some(edge) = model.states[index].next {
            let from = quote!(<#step as #p::Step>::Output);
            add(
                EdgeKey::Next(index),
                edge,
                from,
                format!("{}_next", model.state(index).name),
            );
        }
    }
    wirings
}

/// The expression that takes `value` along `edge` and returns the `Advance`.
fn transition(
    model: &Model<'_>,
    wirings: &[Wiring],
    key: EdgeKey,
    edge: Edge<'_>,
    value: &TokenStream,
) -> TokenStream {
    let p = private();
    let wired = match wirings.iter().find(|wiring| wiring.key == key) {
        Some(wiring) => {
            let ident = &wiring.ident;
            quote!(Self::#ident(#value))
        }
        None => value.clone(),
    };
    match edge.target {
        Target::State(index) => {
            let decl = model.state(index);
            match &decl.body {
                StateBody::Task { .. } => {
                    let variant = &decl.name;
                    quote!(#p::Advance::Next(Self::#variant(#wired)))
                }
                StateBody::Succeed => quote!(#p::enter_succeed(cx, #p::StateId(#index), #wired)),
                StateBody::Fail { .. } => quote!(#p::enter_fail(cx, #p::StateId(#index), &#value)),
            }
        }
        Target::End => quote!(#p::Advance::Succeeded(#wired)),
        Target::Unknown { .. } => quote!(::core::unreachable!()),
    }
}

/// The expression building the workflow's `Definition`.
fn definition(model: &Model<'_>) -> TokenStream {
    let p = private();
    let ast = model.ast;
    let name = ast.name.to_string();
    let input = &ast.input;
    let output = &ast.output;
    let mode = match model.mode {
        Mode::Standard => quote!(#p::Mode::Standard),
        Mode::Express => quote!(#p::Mode::Express),
    };
    let comment = option(doc_text(&ast.attrs));
    let start = match model.start.map(|edge| edge.target) {
        Some(Target::State(index)) => index,
        _ => 0,
    };
    let states = model.states.iter().enumerate().map(|(index, state)| {
        let decl = state.decl;
        let state_name = decl.name.to_string();
        let comment = option(doc_text(&decl.attrs));
        match &decl.body {
            StateBody::Task { .. } => {
                let step = step_alias(model, index);
                let next = match state.next.map(|edge| edge.target) {
                    Some(Target::State(next)) => quote!(::core::option::Option::Some(#next)),
                    _ => quote!(::core::option::Option::None),
                };
                quote!(#p::task_state::<#step>(#state_name, #comment, #next))
            }
            StateBody::Succeed => quote!(#p::succeed_state(#state_name, #comment)),
            StateBody::Fail { error, cause } => {
                let cause = option(cause.as_ref().map(syn::LitStr::value));
                quote!(#p::fail_state(#state_name, #comment, #error, #cause))
            }
        }
    });
    quote! {
        #p::definition::<#input, #output>(#name, #mode, #comment, #start, ::std::vec![#(#states),*])
    }
}

fn option(text: Option<String>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

/// The paragraph appended to the workflow type's docs: mode, types and states.
fn generated_doc(model: &Model<'_>) -> String {
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
        let body = match &decl.body {
            StateBody::Task { step, next } => {
                format!(
                    "task `{}` → `{next}`",
                    tidy(&step.to_token_stream().to_string())
                )
            }
            StateBody::Succeed => "succeed".to_owned(),
            StateBody::Fail { error, .. } => format!("fail with `{}`", error.value()),
        };
        doc.push_str(&format!("- `{}`{start}: {body}\n", decl.name));
    }
    doc
}

/// Token text without the spaces `to_string` puts around `::`, `<` and `>`.
fn tidy(text: &str) -> String {
    text.replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}
