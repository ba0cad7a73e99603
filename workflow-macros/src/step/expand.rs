//! Generating the step type and its `Step` implementation.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{ItemFn, Type};

use super::parse::{Options, Signature};
use crate::diagnostics::Errors;
use crate::docs::doc_text;
use crate::private;

/// The function, its step type and the type's `Step` implementation.
pub(super) fn expand(func: &ItemFn, options: &Options, signature: &Signature) -> TokenStream {
    step_type(func, options, signature, Calls::Function)
}

/// What `#[step]` emits when it found mistakes: the errors; the function unchanged, so its
/// own uses (and IDEs) keep working; and, when the signature's types can be read, the step
/// type with a `Step` implementation that never runs, so that a `workflow!` naming the step
/// reports nothing more than the mistake itself.
pub(super) fn fallback(
    func: &ItemFn,
    options: &Options,
    signature: &Signature,
    errors: &Errors,
) -> TokenStream {
    let mut tokens = errors.to_compile_errors();
    match fallback_signature(func, signature) {
        Some(signature) => {
            // A heartbeat not shorter than the timeout is one of the errors; leaving it out
            // keeps the workflows that run the step from reporting it again.
            let mut options = options.clone();
            if let (Some(timeout), Some(heartbeat)) = (options.timeout, options.heartbeat) {
                if heartbeat.millis >= timeout.millis {
                    options.heartbeat = None;
                }
            }
            tokens.extend(step_type(func, &options, &signature, Calls::Nothing));
        }
        None => tokens.extend(func.to_token_stream()),
    }
    tokens
}

/// The signature with types a `Step` implementation can name, if it has them: a payload
/// taken by reference (`&Order`) is the type referred to. A generic function, an `impl Trait`
/// type, a `Result` without its error type or a borrowed `str` has none, and neither has a
/// method (in an `impl` block, where no type can be declared).
fn fallback_signature(func: &ItemFn, signature: &Signature) -> Option<Signature> {
    if !func.sig.generics.params.is_empty() || func.sig.receiver().is_some() {
        return None;
    }
    let mut signature = signature.clone();
    if let Type::Reference(reference) = &signature.payload {
        match &*reference.elem {
            Type::Path(path) if !path.path.is_ident("str") => {
                signature.payload = (*reference.elem).clone();
            }
            _ => return None,
        }
    }
    signature.extra.clear();
    let types = [Some(&signature.payload), Some(&signature.output)]
        .into_iter()
        .chain([signature.error.as_ref(), signature.callback.as_ref()]);
    let unnamed = types.flatten().any(|ty| match ty {
        Type::ImplTrait(_) | Type::Infer(_) => true,
        // A `Result` the signature could not split: it lacks its error type.
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "Result"),
        _ => false,
    });
    (!unnamed).then_some(signature)
}

/// Whether the `Step` implementation calls the function or, in the fallback, nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Calls {
    Function,
    Nothing,
}

fn step_type(func: &ItemFn, options: &Options, signature: &Signature, calls: Calls) -> TokenStream {
    let p = private::path();
    let ident = &func.sig.ident;
    let vis = &func.vis;
    let name = options
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), syn::LitStr::value);
    let payload = &signature.payload;
    let output = &signature.output;
    let callback = signature.callback.is_some();
    let (returned, into_output) = match &signature.callback {
        Some(written) => (
            written.to_token_stream(),
            quote!(::core::result::Result::Err(returned)),
        ),
        None => (
            output.to_token_stream(),
            quote!(::core::result::Result::Ok(returned)),
        ),
    };
    let error = signature
        .error
        .as_ref()
        .map_or_else(|| quote!(#p::Infallible), ToTokens::to_token_stream);
    let millis = |duration: Option<crate::duration::DurationLit>| match duration {
        Some(duration) => {
            let millis = duration.millis;
            quote!(::core::option::Option::Some(#millis))
        }
        None => quote!(::core::option::Option::None),
    };
    let timeout = millis(options.timeout);
    let heartbeat = millis(options.heartbeat);
    let doc = match doc_text(&func.attrs) {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    // The function is what users read; the type beside it, which only `workflow!` names,
    // is hidden from their docs, and the function says it is a step.
    let struct_doc = format!(
        "The step type of [`{ident}`](fn@{ident}): `workflow!` names it in task states (`task {ident}`).\n\n\
         Step name `{name}`."
    );
    let func_doc = format!(
        "\n\n*A workflow step* (`#[step]`), named `{name}`: `workflow!` runs it in task states (`task {ident}`)."
    );
    let mut func = func.clone();
    func.attrs.push(syn::parse_quote!(#[doc = #func_doc]));

    // Local names at the macro's own site, so they cannot shadow a step named `input` or `env`.
    let input = syn::Ident::new("input", Span::mixed_site());
    let env = syn::Ident::new("env", Span::mixed_site());
    let out = syn::Ident::new("out", Span::mixed_site());
    let arg_names: Vec<_> = (0..signature.extra.len())
        .map(|index| format_ident!("__arg{}", index, span = Span::mixed_site()))
        .collect();
    // Spanned at each argument's type, so an argument that is neither `StepContext` nor
    // `Res<T>` is reported there.
    let requirements = signature.extra.iter().map(|ty| {
        quote_spanned! {ty.span()=>
            if let ::core::option::Option::Some(requirement) =
                <#ty as #p::StepArg>::requirement()
            {
                #out.push(requirement);
            }
        }
    });
    let extractions = signature.extra.iter().zip(&arg_names).map(|(ty, arg)| {
        quote_spanned! {ty.span()=>
            let #arg = <#ty as #p::StepArg>::extract(#env)?;
        }
    });
    // Spanned at the function's name, so a future that is not `Send` is reported there.
    let call = quote_spanned! {ident.span()=> #ident(#input #(, #arg_names)*) };
    let running = if signature.error.is_some() {
        call
    } else {
        quote!(#p::infallible(#call))
    };
    let (requirements, body) = match calls {
        Calls::Function => (
            quote!(#(#requirements)*),
            quote! {
                let _ = &#env;
                #(#extractions)*
                ::core::result::Result::Ok(#running)
            },
        ),
        // A future that never completes: the fallback's step never runs, it only names types.
        Calls::Nothing => (
            TokenStream::new(),
            quote! {
                let _ = (&#input, &#env);
                ::core::result::Result::Ok(::core::future::pending::<
                    ::core::result::Result<
                        <Self as #p::Step>::Returned,
                        <Self as #p::Step>::Error,
                    >,
                >())
            },
        ),
    };

    quote! {
        #func

        #[allow(non_camel_case_types)]
        #[doc = #struct_doc]
        #[doc(hidden)]
        #vis struct #ident {}

        impl #p::Step for #ident {
            type Input = #payload;
            type Output = #output;
            type Error = #error;
            type Returned = #returned;

            const CALLBACK: bool = #callback;

            const INFO: #p::StepInfo = #p::StepInfo::__new(
                #name,
                ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                #timeout,
                #heartbeat,
                #doc,
            );

            fn requirements(#out: &mut ::std::vec::Vec<#p::Requirement>) {
                let _ = &#out;
                #requirements
            }

            fn into_output(
                returned: <Self as #p::Step>::Returned,
            ) -> ::core::result::Result<
                <Self as #p::Step>::Output,
                #p::Callback<<Self as #p::Step>::Output>,
            > {
                #into_output
            }

            fn call(
                #input: <Self as #p::Step>::Input,
                #env: &#p::StepEnv<'_>,
            ) -> ::core::result::Result<
                impl ::core::future::Future<
                    Output = ::core::result::Result<
                        <Self as #p::Step>::Returned,
                        <Self as #p::Step>::Error,
                    >,
                > + ::core::marker::Send + 'static,
                #p::ArgumentError,
            > {
                #body
            }
        }
    }
}
