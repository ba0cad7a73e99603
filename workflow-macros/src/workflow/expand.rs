//! Generating the workflow type, its definition and its typed state machine.
//!
//! The machine is an enum with one variant per task state holding that state's typed input.
//! Every transition passes its value through a tiny *wiring function* whose parameter is the
//! source's output type and whose return type is the target's input type, spanned at the
//! transition's target: rustc then reports a type mismatch right at the arrow the user wrote.
//! Errors named in `retry`/`catch` are checked the same way, by a pattern match against the
//! step's error type spanned at the error's path.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Ident;

use super::parse::{StateBody, WorkflowAst};
use super::validate::{Edge, ErrorModel, Mode, Model, Target, TaskModel, EXPRESS_MAX_MILLIS};
use crate::diagnostics::Errors;
use crate::docs::doc_text;

fn private() -> TokenStream {
    quote!(::workflow::__private)
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
    let checks = checks(model);
    let wirings = wirings(model);

    let variants = task_states(model).map(|(index, step)| {
        let variant = &model.state(index).name;
        quote!(#variant(<#step as #p::Step>::Input))
    });
    let start = match model.start {
        Some(edge) => transition(model, &wirings, EdgeKey::Start, edge, &quote!(input)),
        None => quote!(::core::unreachable!()),
    };
    let arms = task_states(model).map(|(index, step)| task_arm(model, &wirings, index, &step));
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
            #checks

            #[allow(non_camel_case_types)]
            #[doc(hidden)]
            #vis enum #machine {
                #(#variants,)*
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
                    cx: &#p::ExecutionContext<'_>,
                ) -> #p::Advance<Self, #output> {
                    let _ = &cx;
                    #start
                }

                fn advance<'c>(
                    self,
                    cx: &'c #p::ExecutionContext<'_>,
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
/// does not pile up further errors), and the type checks of everything that could be resolved
/// (so type mismatches are reported in the same build).
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
    let checks = model.map(checks).unwrap_or_default();
    let errors = errors.to_compile_errors();
    quote! {
        #errors

        #(#attrs)*
        #vis struct #name;

        const _: () = {
            #checks

            #[doc(hidden)]
            #vis enum #machine {}

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

                fn start(_: #input, _: &#p::ExecutionContext<'_>) -> #p::Advance<Self, #output> {
                    ::core::unreachable!()
                }

                fn advance<'c>(
                    self,
                    _: &'c #p::ExecutionContext<'_>,
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

/// Everything rustc checks for us: step aliases, wiring functions, error-type checks and
/// constant assertions on step timeouts. Used by both the full expansion and the fallback.
fn checks(model: &Model<'_>) -> TokenStream {
    let machine = machine_ident(&model.ast.name);
    let aliases = step_aliases(model);
    let wiring_fns = wirings(model)
        .iter()
        .map(Wiring::function)
        .collect::<Vec<_>>();
    let error_checks = error_checks(model);
    let timing_checks = timing_checks(model);
    quote! {
        #aliases
        #timing_checks

        #[allow(non_snake_case, dead_code)]
        impl #machine {
            #(#wiring_fns)*
            #error_checks
        }
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
    (0..model.states.len()).filter_map(|index| {
        model
            .state(index)
            .step()
            .map(|_| (index, step_alias(model, index)))
    })
}

/// The options of a task state.
fn task_model<'m>(model: &'m Model<'_>, index: usize) -> Option<&'m TaskModel<'m>> {
    model.states[index].task.as_ref()
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

/// The match arm running task state `index`.
fn task_arm(model: &Model<'_>, wirings: &[Wiring], index: usize, step: &Ident) -> TokenStream {
    let p = private();
    let variant = &model.state(index).name;
    let next = match model.states[index].next {
        Some(edge) => transition(model, wirings, EdgeKey::Next(index), edge, &quote!(value)),
        None => quote!(::core::unreachable!()),
    };
    let task = task_model(model, index);
    let policy_span = task.and_then(TaskModel::policy_span);
    let Some(policy_span) = policy_span else {
        return quote! {
            Self::#variant(input) => match #p::run_task::<#step>(cx, #p::StateId(#index), input).await {
                ::core::result::Result::Ok(value) => #next,
                ::core::result::Result::Err(failure) => #p::Advance::Failed(failure),
            },
        };
    };
    let catches = task.map(|task| task.catches.as_slice()).unwrap_or_default();
    let caught_arms = catches.iter().enumerate().map(|(catcher, catch)| {
        let target = transition(
            model,
            wirings,
            EdgeKey::Catch(index, catcher),
            catch.edge,
            &quote!(value),
        );
        // The last catcher's arm takes any index, so the match is exhaustive.
        let pattern = if catcher + 1 == catches.len() {
            quote!(_)
        } else {
            quote!(#catcher)
        };
        quote!(#p::TaskOutcome::Caught(#pattern, value) => #target,)
    });
    let no_catcher = catches
        .is_empty()
        .then(|| quote!(#p::TaskOutcome::Caught(_, _) => #p::no_catcher(cx, #p::StateId(#index)),));
    // Retrying and catching need a copy of the input: its `Clone`, named at the first
    // `retry`/`catch` so that a payload without `Clone` is reported there.
    let copy =
        quote_spanned!(policy_span=> <<#step as #p::Step>::Input as ::core::clone::Clone>::clone);
    quote! {
        Self::#variant(input) => match #p::run_task_with_policies::<#step>(cx, #p::StateId(#index), input, #copy).await {
            #p::TaskOutcome::Succeeded(value) => #next,
            #(#caught_arms)*
            #no_catcher
            #p::TaskOutcome::Failed(failure) => #p::Advance::Failed(failure),
        },
    }
}

/// Which transition a wiring checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKey {
    /// From the workflow's input to the start state.
    Start,
    /// From a task state (by index) to its next state.
    Next(usize),
    /// From a task state to the target of its catcher (by index).
    Catch(usize, usize),
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
        let state_name = &model.state(index).name;
        if let Some(edge) = model.states[index].next {
            add(
                EdgeKey::Next(index),
                edge,
                quote!(<#step as #p::Step>::Output),
                format!("{state_name}_next"),
            );
        }
        for (catcher, catch) in task_model(model, index)
            .map(|task| task.catches.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            add(
                EdgeKey::Catch(index, catcher),
                catch.edge,
                quote!(#p::Caught<<#step as #p::Step>::Input>),
                format!("{state_name}_catch{catcher}"),
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

/// For every error named in `retry`/`catch`, a function rustc checks against the step's error
/// type, spanned at the error's path: naming a variant the type lacks, or another type's
/// variant, is a compile error there.
fn error_checks(model: &Model<'_>) -> TokenStream {
    let p = private();
    let mut checks = TokenStream::new();
    for (index, step) in task_states(model) {
        let Some(task) = task_model(model, index) else {
            continue;
        };
        let lists = task
            .retries
            .iter()
            .map(|retry| &retry.errors)
            .chain(task.catches.iter().map(|catch| &catch.errors));
        for (number, error) in lists.flatten().enumerate() {
            let ident = format_ident!("__error_{}_{}", model.state(index).name, number);
            let check = match error {
                ErrorModel::Variant(written) => {
                    let path = written.path();
                    quote_spanned! {written.span()=>
                        fn #ident(error: &<#step as #p::Step>::Error) -> bool {
                            ::core::matches!(error, #path { .. })
                        }
                    }
                }
                ErrorModel::AllOf(written) => {
                    let type_path = written.type_path();
                    quote_spanned! {written.span()=>
                        fn #ident(error: &<#step as #p::Step>::Error) -> &#type_path {
                            error
                        }
                    }
                }
                ErrorModel::Predefined { .. } => continue,
            };
            checks.extend(check);
        }
    }
    checks
}

/// Constant assertions about timeouts that depend on `#[step(...)]` options, which only the
/// compiler sees: handling `States.Timeout` needs a timeout, the heartbeat must be shorter than
/// the timeout, and an Express task's timeout fits in five minutes.
fn timing_checks(model: &Model<'_>) -> TokenStream {
    let p = private();
    let mut checks = TokenStream::new();
    for (index, step) in task_states(model) {
        let Some(task) = task_model(model, index) else {
            continue;
        };
        let decl = model.state(index);
        let state = decl.name.to_string();
        let step_text = decl
            .step()
            .map(|path| tidy(&path.to_token_stream().to_string()))
            .unwrap_or_default();
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
        for error in handled {
            let ErrorModel::Predefined { name, written } = error else {
                continue;
            };
            let (needs_heartbeat, setting) = match *name {
                "States.Timeout" => (false, "timeout"),
                "States.HeartbeatTimeout" => (true, "heartbeat"),
                _ => continue,
            };
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
            checks.extend(quote_spanned! {written.span()=>
                const _: () = ::core::assert!(
                    #p::has_duration(#state_value, <#step as #p::Step>::INFO.#getter()),
                    #message
                );
            });
        }
        let span = decl.name.span();
        // Both set on the state: validation already compared them.
        if task.timeout.is_none() || task.heartbeat.is_none() {
            let message = format!(
                "state `{state}`: the heartbeat interval of step `{step_text}` must be shorter than its timeout"
            );
            checks.extend(quote_spanned! {span=>
                const _: () = ::core::assert!(
                    #p::heartbeat_below_timeout(#timeout, #heartbeat, <#step as #p::Step>::INFO),
                    #message
                );
            });
        }
        if model.mode == Mode::Express && task.timeout.is_none() {
            let message = format!(
                "state `{state}`: the timeout of step `{step_text}` is longer than an Express workflow may run (5 minutes)"
            );
            checks.extend(quote_spanned! {span=>
                const _: () = ::core::assert!(
                    #p::timeout_within(<#step as #p::Step>::INFO, #EXPRESS_MAX_MILLIS),
                    #message
                );
            });
        }
    }
    checks
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
                let next = match state.next.map(|edge| edge.target) {
                    Some(Target::State(next)) => quote!(::core::option::Option::Some(#next)),
                    _ => quote!(::core::option::Option::None),
                };
                let options = task_options(model, index, &step);
                quote!(#p::task_state::<#step>(#state_name, #comment, #next, #options))
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

fn option_str(text: Option<String>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

fn option_u64(value: Option<u64>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
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
        let mut body = match &decl.body {
            StateBody::Task { step, next, .. } => {
                format!(
                    "task `{}` → `{next}`",
                    tidy(&step.to_token_stream().to_string())
                )
            }
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
