//! Tokens to a typed view of a workflow that keeps the user's spans.
//!
//! ```text
//! workflow! {
//!     /// Docs.
//!     #[version(2)]                               // optional; 1 when left out
//!     pub Name: Standard<Input, Output> {
//!         timeout 1h;
//!         start First;
//!         /// Docs.
//!         First: task step_fn -> Route, retry E::A { ... }, catch E::B -> Fallback;
//!         Route: choice { |x: &T| condition => Next, _ => Other };
//!         Next: wait 30s -> Fork;                 // or `wait for f -> ...`, `wait until f -> ...`
//!         Fork: parallel { branch { start A; ... } branch { start B; ... } } -> Each;
//!         Each: map selector { start Item; ... } -> Shape, max_concurrency 4, tolerate 10%;
//!                                                 // each setting also `|x: &T| ...`
//!         Shape: pass transform -> end;           // or `pass -> ...`
//!         Done: succeed;
//!         Rejected: fail "ErrorName", cause "Why";  // or `fail |x: &T| ..., cause ...`, `fail`
//!     }
//! }
//! ```
//!
//! Each `;`-terminated statement is parsed on its own ([`parse_items`]), so every malformed
//! statement is reported. State bodies are in `state`, options in `options`.

mod options;
mod state;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{
    braced, Attribute, Expr, GenericArgument, Ident, LitStr, Path, PathArguments, Token, Type,
    Visibility,
};

use crate::diagnostics::Errors;
use crate::duration::DurationLit;

pub(super) use options::{ErrorItem, ErrorRef, RetryParam, RetryValue, TaskOption};

/// A whole `workflow!` invocation.
pub(super) struct WorkflowAst {
    /// The attributes to put on the generated type: doc comments and the like.
    pub(super) attrs: Vec<Attribute>,
    /// `#[version(N)]` attributes (their arguments checked in validation).
    pub(super) versions: Vec<Attribute>,
    pub(super) vis: Visibility,
    pub(super) name: Ident,
    /// `Standard` or `Express` (checked in validation).
    pub(super) mode: Ident,
    pub(super) input: Type,
    pub(super) output: Type,
    pub(super) items: Vec<Item>,
}

/// One `;`-terminated statement in the workflow's body.
pub(super) enum Item {
    /// `start State;`
    Start { keyword: Ident, target: Ident },
    /// `timeout 1h;`: the longest an execution may run.
    Timeout {
        keyword: Ident,
        duration: DurationLit,
    },
    /// `Name: kind ...;`
    State(Box<StateDecl>),
}

/// `Name: kind ...;`, with the doc comments before it.
pub(super) struct StateDecl {
    pub(super) attrs: Vec<Attribute>,
    pub(super) name: Ident,
    pub(super) body: StateBody,
}

/// What follows `Name:`.
pub(super) enum StateBody {
    /// `task step_path -> Next, option, ...`
    Task {
        step: Path,
        next: Ident,
        options: Vec<TaskOption>,
    },
    /// `choice { |x: &T| condition => State, ..., _ => Default }`
    Choice {
        keyword: Ident,
        rules: Vec<ChoiceRule>,
        default: Option<Ident>,
    },
    /// `wait 30s -> Next`, `wait until selector -> Next` or `wait for function -> Next`
    Wait { wait: WaitFor, next: Ident },
    /// `pass -> Next` or `pass transform -> Next`
    Pass {
        transform: Option<Expr>,
        next: Ident,
    },
    /// `parallel { branch { ... } branch { ... } } -> Next, option, ...`
    Parallel {
        keyword: Ident,
        branches: Vec<Branch>,
        next: Ident,
        options: Vec<TaskOption>,
    },
    /// `map selector { ... } -> Next, option, ...`
    Map {
        keyword: Ident,
        items: Expr,
        iteration: Branch,
        next: Ident,
        options: Vec<TaskOption>,
    },
    /// `succeed`
    Succeed,
    /// `fail "Error", cause "Why"`; either part may be a function of the input, or left out
    /// (`fail cause "Why"`, `fail`).
    Fail {
        error: Option<FailText>,
        cause: Option<FailText>,
    },
}

/// A Fail state's error name or cause.
pub(super) enum FailText {
    /// `"OrderRejected"`
    Given(LitStr),
    /// A closure or function taking `&Input` and returning the text: `|o: &Order| o.code.clone()`.
    Computed(Expr),
}

impl FailText {
    /// The function, if the text is computed.
    pub(super) fn computed(&self) -> Option<&Expr> {
        match self {
            FailText::Given(_) => None,
            FailText::Computed(function) => Some(function),
        }
    }
}

/// `condition => State` in a Choice state.
pub(super) struct ChoiceRule {
    /// A closure or function taking `&Input` and returning `bool`.
    pub(super) predicate: Expr,
    pub(super) target: Ident,
}

/// A sub-machine: the body of a Parallel branch or of a Map state's iteration.
pub(super) struct Branch {
    /// `branch` (Parallel) or `map` (Map), for errors about the branch as a whole.
    pub(super) keyword: Ident,
    pub(super) items: Vec<Item>,
}

/// What a Wait state waits for.
pub(super) enum WaitFor {
    Duration(DurationLit),
    /// A closure or function taking `&Input` and returning a time.
    Until(Expr),
    /// A closure or function taking `&Input` and returning a `Duration`.
    DurationFrom(Expr),
}

/// The value of a state's setting: as written, or worked out from the state's input by a
/// closure or function taking `&Input` (Step Functions' `*Path` fields).
pub(super) enum Setting<T> {
    Given(T),
    Computed(Expr),
}

/// The word that ends an execution after a task: `-> end`.
pub(super) const END: &str = "end";

/// Parses the invocation. Errors in the header are fatal; errors in the body are collected
/// per statement so that every malformed statement is reported.
pub(super) fn parse(input: TokenStream) -> syn::Result<(WorkflowAst, Errors)> {
    let mut errors = Errors::default();
    let parser = |input: ParseStream<'_>| -> syn::Result<WorkflowAst> {
        let (versions, attrs) = input
            .call(Attribute::parse_outer)?
            .into_iter()
            .partition(|attr| attr.path().is_ident("version"));
        let vis: Visibility = input.parse()?;
        let name: Ident = input.parse().map_err(|error| {
            syn::Error::new(error.span(), "expected the workflow's name: `pub OrderWorkflow: Standard<Order, Receipt> { ... }`")
        })?;
        input.parse::<Token![:]>().map_err(|error| {
            syn::Error::new(error.span(), "expected `:` and the mode after the workflow's name: `OrderWorkflow: Standard<Order, Receipt>`")
        })?;
        let (mode, input_type, output_type) = parse_mode(input)?;
        let body;
        braced!(body in input);
        let body: TokenStream = body.parse()?;
        let items = parse_items(body).unwrap_or_else(|error| {
            errors.push(error);
            Vec::new()
        });
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the workflow's body"));
        }
        Ok(WorkflowAst {
            attrs,
            versions,
            vis,
            name,
            mode,
            input: input_type,
            output: output_type,
            items,
        })
    };
    let ast = parser.parse2(input)?;
    Ok((ast, errors))
}

/// `Standard<Input, Output>`.
fn parse_mode(input: ParseStream<'_>) -> syn::Result<(Ident, Type, Type)> {
    let usage = "expected the mode with input and output types: `Standard<Input, Output>` or `Express<Input, Output>`";
    let path: Path = input
        .parse()
        .map_err(|error| syn::Error::new(error.span(), usage))?;
    let segment = match (path.leading_colon, path.segments.len()) {
        (None, 1) => &path.segments[0],
        _ => return Err(syn::Error::new_spanned(&path, usage)),
    };
    let types: Vec<Type> = match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .map(|arg| match arg {
                GenericArgument::Type(ty) => Ok(ty.clone()),
                other => Err(syn::Error::new_spanned(other, "expected a type")),
            })
            .collect::<syn::Result<_>>()?,
        _ => return Err(syn::Error::new_spanned(&path, usage)),
    };
    match <[Type; 2]>::try_from(types) {
        Ok([input_type, output_type]) => Ok((segment.ident.clone(), input_type, output_type)),
        Err(_) => Err(syn::Error::new_spanned(&segment.arguments, usage)),
    }
}

/// Splits a body after each top-level `;` (groups are single tokens, so nested `;` stay put).
/// Each statement keeps its `;`, so "expected ..." errors at its end point at the `;`.
fn split_statements(body: TokenStream) -> Vec<TokenStream> {
    let mut statements = Vec::new();
    let mut current = TokenStream::new();
    for token in body {
        let ends_statement = matches!(&token, TokenTree::Punct(punct) if punct.as_char() == ';');
        current.extend([token]);
        if ends_statement {
            statements.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        statements.push(current);
    }
    statements.retain(|statement| !statement.is_empty());
    statements
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        if input.peek(Ident::peek_any) && !input.peek2(Token![:]) {
            let keyword = input.call(Ident::parse_any)?;
            if keyword == "timeout" {
                if let Some(attr) = attrs.first() {
                    return Err(syn::Error::new_spanned(
                        attr,
                        "attributes go on states, not on `timeout`",
                    ));
                }
                let duration = input.parse()?;
                expect_end(input)?;
                return Ok(Item::Timeout { keyword, duration });
            }
            if keyword != "start" {
                return Err(syn::Error::new(
                    keyword.span(),
                    "expected `start State;`, `timeout <duration>;` or a state: `Name: task step -> Next;`",
                ));
            }
            if let Some(attr) = attrs.first() {
                return Err(syn::Error::new_spanned(
                    attr,
                    "attributes go on states, not on `start`",
                ));
            }
            let target: Ident = input.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "expected the start state's name: `start Validate;`",
                )
            })?;
            expect_end(input)?;
            return Ok(Item::Start { keyword, target });
        }
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let body = input.parse()?;
        expect_end(input)?;
        if let Some(attr) = attrs.iter().find(|attr| !attr.path().is_ident("doc")) {
            return Err(syn::Error::new_spanned(
                attr,
                "only doc comments (`///`) can go on a state",
            ));
        }
        Ok(Item::State(Box::new(StateDecl { attrs, name, body })))
    }
}

/// The statements of a branch body, each parsed on its own; every malformed statement is
/// reported.
fn parse_items(body: TokenStream) -> syn::Result<Vec<Item>> {
    let mut errors = Errors::default();
    let items = split_statements(body)
        .into_iter()
        .filter_map(|statement| match Item::parse.parse2(statement) {
            Ok(item) => Some(item),
            Err(error) => {
                errors.push(error);
                None
            }
        })
        .collect();
    errors.finish(items)
}

/// The statement's `;` (optional after the last statement), and nothing after it.
fn expect_end(input: ParseStream<'_>) -> syn::Result<()> {
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
    }
    if input.is_empty() {
        return Ok(());
    }
    // A missing `;` between two statements shows up as a second statement's tokens here.
    let span = match input.cursor().token_tree() {
        Some((TokenTree::Group(group), _)) if group.delimiter() == Delimiter::None => group.span(),
        _ => input.span(),
    };
    Err(syn::Error::new(
        span,
        "unexpected tokens here; is a `;` missing at the end of the previous statement?",
    ))
}

impl StateDecl {
    /// The state's step, if it is a task.
    pub(super) fn step(&self) -> Option<&Path> {
        match &self.body {
            StateBody::Task { step, .. } => Some(step),
            _ => None,
        }
    }

    /// Whether the state is a Fail state that works nothing out from its input, so that it
    /// takes an input of any type.
    pub(super) fn takes_anything(&self) -> bool {
        matches!(&self.body, StateBody::Fail { error, cause }
            if error.iter().chain(cause).all(|part| part.computed().is_none()))
    }

    /// The functions of a Fail state computing its error name and cause.
    pub(super) fn fail_functions(&self) -> impl Iterator<Item = &Expr> + '_ {
        let parts = match &self.body {
            StateBody::Fail { error, cause } => [error.as_ref(), cause.as_ref()],
            _ => [None, None],
        };
        parts.into_iter().flatten().filter_map(FailText::computed)
    }

    /// The span to point at when talking about the whole declaration.
    pub(super) fn span(&self) -> Span {
        self.name.span()
    }
}
