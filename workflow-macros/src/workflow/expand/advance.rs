//! `Machine::advance`: the loop that runs a scope's states, one `match` arm per state.
//!
//! A machine of more than [`GROUP`] states has its arms in groups, each group an `async fn`
//! of the machine awaited by the loop. rustc's checks of one async body grow faster than its
//! await points: with an await per state in a single body, a workflow of 1,000 task states
//! spent most of its build there (see `benches/compile.sh`). Grouped, no body has more than
//! [`GROUP`] of them. A smaller machine keeps every arm in the loop's own body: a group's
//! future, made at each transition inside the loop's, is one more move of the state's input.
//!
//! In a grouped machine, the task states with retriers or catchers have no await in their
//! arms at all: each makes its state's future, boxed, and one plain function of the machine
//! holds those arms (`__advance_boxed`), the loop awaiting what it returns. Their outcome
//! becomes the next step in small functions of the machine, one per state. The task path
//! with policies boxes the step's future anyway; for the chain of 1,000 such states in
//! `benches/compile.sh` this took borrow checking from 2.5 s to 1.2 s and the LLVM IR from
//! 519 k to 392 k lines.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use super::{arms, Expansion};
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
    // Task states with retriers or catchers: their arms make a boxed future, awaited by the
    // loop; they need no `async` body, and one function holds them all.
    let mut boxed = Vec::new();
    let mut boxed_variants = Vec::new();
    let mut awaited = Vec::new();
    let mut awaited_variants = Vec::new();
    for ((index, arm), variant) in expansion.variant_states(scope).zip(arms).zip(variants) {
        match arms::boxed_task(expansion, index, output) {
            Some(task) => {
                boxed.push(task.arm);
                functions.push(task.functions);
                boxed_variants.push(variant);
            }
            None => {
                awaited.push(arm.clone());
                awaited_variants.push(variant);
            }
        }
    }
    if !boxed.is_empty() {
        let function = format_ident!("__advance_boxed", span = Span::call_site());
        let held = syn::Ident::new("machine", Span::mixed_site());
        dispatch.push(quote! {
            #held @ (#(Self::#boxed_variants(_))|*) => #held.#function(cx).await,
        });
        // The loop hands this function its own states only.
        let others = (!awaited.is_empty()).then(|| quote!(_ => ::core::unreachable!(),));
        functions.push(quote! {
            fn #function<'c>(
                self,
                cx: &'c #p::ExecutionContext<'_>,
            ) -> #p::TaskThen<'c, Self, #output> {
                match self {
                    #(#boxed)*
                    #others
                }
            }
        });
    }
    for (number, (arms, variants)) in awaited
        .chunks(GROUP)
        .zip(awaited_variants.chunks(GROUP))
        .enumerate()
    {
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
