//! The one path generated code takes to the runtime: `::workflow::__private_vMAJOR_MINOR`.
//!
//! The module's name carries the version of this crate, so a `workflow-macros` paired with a
//! `workflow-runtime` of another release fails at once, on the path, instead of on whatever
//! item of the private module changed between them. The runtime and the facade crate declare
//! the module under the same name.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// The private module's name: `__private_v0_1` for every 0.1.x release.
pub(crate) const MODULE: &str = concat!(
    "__private_v",
    env!("CARGO_PKG_VERSION_MAJOR"),
    "_",
    env!("CARGO_PKG_VERSION_MINOR"),
);

/// `::workflow::__private_vX_Y`, at the macro's call site.
pub(crate) fn path() -> TokenStream {
    path_at(Span::call_site())
}

/// `::workflow::__private_vX_Y` with every token at `span`, so that an error in a call
/// through it is reported at the user's tokens.
pub(crate) fn path_at(span: Span) -> TokenStream {
    let module = syn::Ident::new(MODULE, span);
    quote_spanned!(span=> ::workflow::#module)
}
