//! Generating the `StepError` implementation.

use proc_macro2::TokenStream;
use quote::quote;

use crate::private;

use super::parse::{Cases, ErrorType};

pub(super) fn expand(error_type: &ErrorType) -> TokenStream {
    let p = private::path();
    let ident = &error_type.ident;
    let (impl_generics, type_generics, where_clause) = error_type.generics.split_for_impl();
    // `retry`/`catch` clauses name a variant by its Rust name: each maps to exactly the
    // error name it is given, whatever that name is.
    let lookup = match &error_type.cases {
        Cases::Struct(name) => {
            let rust_name = ident.to_string();
            quote!(#rust_name => ::core::option::Option::Some(#name),)
        }
        Cases::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let rust_name = variant.ident.to_string();
                let name = &variant.name;
                quote!(#rust_name => ::core::option::Option::Some(#name),)
            });
            quote!(#(#arms)*)
        }
    };
    let (names, body) = match &error_type.cases {
        Cases::Struct(name) => (vec![name.clone()], quote!(#name)),
        Cases::Enum(variants) if variants.is_empty() => (Vec::new(), quote!(match *self {})),
        Cases::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let variant_ident = &variant.ident;
                let name = &variant.name;
                // `Variant { .. }` matches unit, tuple and struct variants alike.
                quote!(Self::#variant_ident { .. } => #name,)
            });
            (
                variants
                    .iter()
                    .map(|variant| variant.name.clone())
                    .collect(),
                quote!(match self { #(#arms)* }),
            )
        }
    };
    quote! {
        impl #impl_generics #p::StepError for #ident #type_generics #where_clause {
            const ERROR_NAMES: &'static [&'static str] = &[#(#names),*];

            fn error_name(&self) -> &'static str {
                #body
            }

            fn name_of_variant(variant: &str) -> ::core::option::Option<&'static str> {
                match variant {
                    #lookup
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}
