//! Collecting every error of a macro invocation instead of stopping at the first.

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// The errors found so far; turned into `compile_error!`s at the user's spans.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn at_tokens(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// The errors as tokens (empty if there are none).
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.combined
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }

    /// `Ok(value)` if nothing went wrong.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, syn::Error> {
        match self.combined {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}
