//! Reading `#[step]`'s options and the function's signature.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, GenericArgument, ItemFn, LitStr, PathArguments, ReturnType, Type};

use crate::diagnostics::Errors;
use crate::duration::DurationLit;
use crate::names;

/// `#[step(name = "...", timeout = "...", heartbeat = "...")]`.
#[derive(Default, Clone)]
pub(super) struct Options {
    pub(super) name: Option<LitStr>,
    pub(super) timeout: Option<DurationLit>,
    pub(super) heartbeat: Option<DurationLit>,
}

const KNOWN_OPTIONS: [&str; 3] = ["name", "timeout", "heartbeat"];

/// The options as far as they read; what is wrong with them goes to `errors`.
pub(super) fn options(attr: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.to_token_stream().to_string();
        if !KNOWN_OPTIONS.contains(&key.as_str()) {
            errors.at_tokens(
                &meta.path,
                format!(
                    "unknown step option `{key}`: the options are `name`, `timeout` and `heartbeat`{}",
                    names::did_you_mean(&key, KNOWN_OPTIONS)
                ),
            );
            // Skip the value so the options after it are still read.
            if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            return Ok(());
        }
        let value: LitStr = match meta.value().and_then(|value| value.parse()) {
            Ok(value) => value,
            Err(error) => {
                errors.push(syn::Error::new(
                    error.span(),
                    format!("expected `{key} = \"...\"`"),
                ));
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    meta.input.parse::<syn::Expr>()?;
                }
                return Ok(());
            }
        };
        let duplicate = |errors: &mut Errors| {
            errors.at_tokens(&meta.path, format!("`{key}` is given more than once"))
        };
        if key == "name" {
            if let Some(problem) = names::name_problem(&value.value()) {
                errors.at(value.span(), format!("invalid step name: {problem}"));
            }
            if options.name.replace(value).is_some() {
                duplicate(errors);
            }
            return Ok(());
        }
        match DurationLit::from_str_lit(&value) {
            Ok(duration) => {
                let slot = if key == "timeout" {
                    &mut options.timeout
                } else {
                    &mut options.heartbeat
                };
                if slot.replace(duration).is_some() {
                    duplicate(errors);
                }
            }
            Err(error) => errors.push(error),
        }
        Ok(())
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, attr) {
        errors.push(error);
    }
    if let (Some(timeout), Some(heartbeat)) = (options.timeout, options.heartbeat) {
        if heartbeat.millis >= timeout.millis {
            errors.at(
                heartbeat.span,
                "the heartbeat interval must be shorter than the timeout",
            );
        }
    }
    options
}

/// What `#[step]` needs to know of the function.
#[derive(Clone)]
pub(super) struct Signature {
    /// The payload's type (the first argument).
    pub(super) payload: Type,
    /// The types of the further arguments (context, resources), in order.
    pub(super) extra: Vec<Type>,
    /// The success type.
    pub(super) output: Type,
    /// The error type, if the function returns `Result<O, E>`.
    pub(super) error: Option<Type>,
    /// For a callback step (returning `Callback<T>` or `Result<Callback<T>, E>`), the type
    /// written as the success type; `output` is then `T`.
    pub(super) callback: Option<Type>,
}

/// The signature as far as it reads (a missing payload reads as `()`, as the error suggests);
/// what is wrong with it goes to `errors`.
pub(super) fn signature(func: &ItemFn, errors: &mut Errors) -> Signature {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        errors.at_tokens(sig.fn_token, "a step must be an `async fn`");
    }
    if let Some(constness) = &sig.constness {
        errors.at_tokens(constness, "a step cannot be a `const fn`");
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.at_tokens(unsafety, "a step cannot be an `unsafe fn`");
    }
    if let Some(abi) = &sig.abi {
        errors.at_tokens(abi, "a step cannot have an `extern` ABI");
    }
    if let Some(variadic) = &sig.variadic {
        errors.at_tokens(variadic, "a step cannot be variadic");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.at_tokens(
            &sig.generics,
            "a step cannot be generic: its input and output types must be concrete so workflows can be type-checked and payloads stored",
        );
    }
    let mut arg_types = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(receiver) => errors.at_tokens(
                receiver,
                "a step cannot take `self`; make it a free function and pass what it needs as a resource (`Res<T>`)",
            ),
            FnArg::Typed(typed) => {
                check_argument_type(&typed.ty, arg_types.is_empty(), errors);
                arg_types.push((*typed.ty).clone());
            }
        }
    }
    let mut arg_types = arg_types.into_iter();
    let payload = arg_types.next();
    if payload.is_none() && sig.receiver().is_none() {
        errors.at(
            sig.paren_token.span.join(),
            "a step takes its payload (the state's input) as its first argument; use `(): ()` if it needs none",
        );
    }
    let (output, error) = output_types(&sig.output, errors);
    let (output, callback) = match callback_output(&output) {
        Some(inner) => (inner, Some(output)),
        None => (output, None),
    };
    let extra: Vec<Type> = arg_types.collect();
    let token = extra.iter().find(|ty| last_ident_is(ty, "TaskToken"));
    match (&callback, token) {
        (None, Some(token)) => errors.at_tokens(
            token,
            "only a callback step takes a `TaskToken`: return `Callback<Output>` (or `Result<Callback<Output>, Error>`) to make the state wait for the token",
        ),
        (Some(callback), None) => errors.at_tokens(
            callback,
            "a callback step takes a `TaskToken` argument, to hand out to whoever will complete it",
        ),
        _ => {}
    }
    Signature {
        payload: payload.unwrap_or_else(|| syn::parse_quote!(())),
        extra,
        output,
        error,
        callback,
    }
}

/// `T` of `Callback<T>`.
fn callback_output(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Callback" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) if args.args.len() == 1 => Some(inner.clone()),
        _ => None,
    }
}

/// Whether `ty` is a path whose last segment is `name`.
fn last_ident_is(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(path) if path.path.segments.last().is_some_and(|last| last.ident == name))
}

fn check_argument_type(ty: &Type, is_payload: bool, errors: &mut Errors) {
    match ty {
        Type::Reference(reference) if is_payload => errors.at_tokens(
            reference,
            "the payload must be an owned type: it moves from state to state (take `T`, not `&T`)",
        ),
        Type::Reference(reference) => errors.at_tokens(
            reference,
            "step arguments are taken by value: take `StepContext` or `Res<T>`, not a reference",
        ),
        Type::ImplTrait(impl_trait) => errors.at_tokens(
            impl_trait,
            "a step cannot be generic: its argument types must be concrete",
        ),
        _ => {}
    }
}

/// `-> Result<O, E>` gives `(O, Some(E))`; `-> O` gives `(O, None)`; no return type gives `()`.
fn output_types(output: &ReturnType, errors: &mut Errors) -> (Type, Option<Type>) {
    let ty = match output {
        ReturnType::Default => return (syn::parse_quote!(()), None),
        ReturnType::Type(_, ty) => ty,
    };
    if let Type::ImplTrait(impl_trait) = &**ty {
        errors.at_tokens(
            impl_trait,
            "a step must return a concrete type, not `impl Trait`",
        );
    }
    if let Type::Path(path) = &**ty {
        if let Some(last) = path.path.segments.last() {
            if last.ident == "Result" {
                if let PathArguments::AngleBracketed(args) = &last.arguments {
                    let types: Vec<&Type> = args
                        .args
                        .iter()
                        .filter_map(|arg| match arg {
                            GenericArgument::Type(ty) => Some(ty),
                            _ => None,
                        })
                        .collect();
                    if let [ok, error] = types[..] {
                        return (ok.clone(), Some(error.clone()));
                    }
                }
                errors.at_tokens(
                    ty,
                    "a step returning `Result` must name both types, `Result<Output, Error>`, with an error type that derives `StepError`",
                );
            }
        }
    }
    ((**ty).clone(), None)
}
