//! Generating the step type and its `Step` implementation.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::ItemFn;

use super::parse::{Options, Signature};
use crate::docs::doc_text;
use crate::private;

pub(super) fn expand(func: &ItemFn, options: &Options, signature: &Signature) -> TokenStream {
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
    let struct_doc = format!(
        "The step type of [`{ident}`](fn@{ident}): `workflow!` names it in task states (`task {ident}`).\n\n\
         Step name `{name}`."
    );

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

    quote! {
        #func

        #[allow(non_camel_case_types)]
        #[doc = #struct_doc]
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
                #(#requirements)*
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
                let _ = &#env;
                #(#extractions)*
                ::core::result::Result::Ok(#running)
            }
        }
    }
}
