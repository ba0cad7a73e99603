//! `#[workflow::test]`: an async test on a current-thread tokio runtime whose clock is paused,
//! so waits, retry delays and timeouts on a `VirtualClock` complete at once.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemFn;

pub(crate) fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        // Keep the item, so the rest of the file still type-checks around the error.
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut errors: Option<syn::Error> = None;
    let mut report = |error: syn::Error| match &mut errors {
        Some(errors) => errors.combine(error),
        None => errors = Some(error),
    };
    if !attr.is_empty() {
        report(syn::Error::new(
            attr.span(),
            "`#[workflow::test]` takes no arguments: its runtime is always current-thread with paused time",
        ));
    }
    if function.sig.asyncness.is_none() {
        report(syn::Error::new(
            function.sig.fn_token.span,
            "`#[workflow::test]` goes on an `async fn`",
        ));
    }
    if !function.sig.inputs.is_empty() {
        report(syn::Error::new(
            function.sig.inputs.span(),
            "a test function takes no arguments",
        ));
    }
    if let Some(errors) = errors {
        let errors = errors.to_compile_error();
        return quote!(#errors #item);
    }
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    let p = crate::private::path_at(sig.ident.span());
    let runtime = quote_spanned! {sig.ident.span()=>
        #p::paused_runtime::<()>()
    };
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #sig {
            #runtime.block_on(async move #block)
        }
    }
}
