//! `Machine::advance`: the loop that runs a scope's states, one `match` arm per state.
//!
//! A machine of more than [`GROUP`] states has its arms in groups, each group an `async fn`
//! of the machine awaited by the loop. rustc's checks of one async body grow faster than its
//! await points: with an await per state in a single body, a workflow of 1,000 task states
//! spent most of its build there (see `benches/compile.sh`). Grouped, no body has more than
//! [`GROUP`] of them. A smaller machine keeps every arm in the loop's own body: a group's
//! future, made at each transition inside the loop's, is one more move of the state's input.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use super::Expansion;
use crate::private;
use crate::workflow::index::ScopeIndex;

/// The most states whose arms one async body holds.
pub(super) const GROUP: usize = 32;

/// The body of `advance` (an `async` block) and the items it calls: the groups' functions,
/// in an inherent impl of the machine, or nothing.
pub(super) struct AdvanceCode {
    pub(super) body: TokenStream,
    pub(super) groups: TokenStream,
}

/// `advance` of the machine of `scope`, whose state `index` has the arm `arms[i]` for the
/// `i`-th of its variant states; `output` is its output type, `bounds` its impls' where
/// clause.
pub(super) fn advance(
    expansion: &Expansion<'_, '_>,
    scope: ScopeIndex,
    arms: &[TokenStream],
    output: &TokenStream,
    bounds: &TokenStream,
) -> AdvanceCode {
    let p = private::path();
    // A scope whose states all end it (Succeed, Fail) has no variant: nothing to run, and a
    // loop after the empty match would be unreachable code.
    if arms.is_empty() {
        return AdvanceCode {
            body: quote!(async move {
                let _ = (&cx, once);
                match self {}
            }),
            groups: TokenStream::new(),
        };
    }
    let (dispatch, groups) = if arms.len() <= GROUP {
        (quote!(match machine { #(#arms)* }), TokenStream::new())
    } else {
        grouped(expansion, scope, arms, output, bounds)
    };
    let body = quote! {
        async move {
            let _ = &cx;
            let mut machine = self;
            loop {
                let advanced = #dispatch;
                match advanced {
                    #p::Advance::Next(next) if !once => {
                        #p::entering(cx, &next);
                        machine = next;
                    }
                    advanced => return advanced,
                }
            }
        }
    };
    AdvanceCode { body, groups }
}

/// The loop's `match` handing each state to its group's function, and those functions.
fn grouped(
    expansion: &Expansion<'_, '_>,
    scope: ScopeIndex,
    arms: &[TokenStream],
    output: &TokenStream,
    bounds: &TokenStream,
) -> (TokenStream, TokenStream) {
    let p = private::path();
    let machine_type = expansion.machine(scope);
    let variants: Vec<_> = expansion
        .variant_states(scope)
        .map(|index| &expansion.model.state(index).name)
        .collect();
    let mut dispatch = Vec::new();
    let mut functions = Vec::new();
    for (number, (arms, variants)) in arms.chunks(GROUP).zip(variants.chunks(GROUP)).enumerate() {
        // Called with method syntax: `Self::__advance_group_0` would name a state of that
        // name, were there one, rather than the function.
        let function = format_ident!("__advance_group_{}", number, span = Span::call_site());
        let held = syn::Ident::new("machine", Span::mixed_site());
        dispatch.push(quote! {
            #held @ (#(Self::#variants(_))|*) => #held.#function(cx).await,
        });
        functions.push(quote! {
            async fn #function(
                self,
                cx: &#p::ExecutionContext<'_>,
            ) -> #p::Advance<Self, #output> {
                let _ = &cx;
                match self {
                    #(#arms)*
                    // The loop hands this group its own states only.
                    _ => ::core::unreachable!(),
                }
            }
        });
    }
    let dispatch = quote!(match machine { #(#dispatch)* });
    let groups = quote! {
        // A payload may be `()`, which the transitions pass on like any other value.
        #[allow(clippy::unit_arg)]
        impl #machine_type #bounds {
            #(#functions)*
        }
    };
    (dispatch, groups)
}
