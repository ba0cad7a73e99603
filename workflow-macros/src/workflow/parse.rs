//! Tokens to a typed view of a workflow that keeps the user's spans.
//!
//! ```text
//! workflow! {
//!     /// Docs.
//!     pub Name: Standard<Input, Output> {
//!         start First;
//!         /// Docs.
//!         First: task step_fn -> Second;
//!         Second: task other_step -> end;
//!         Done: succeed;
//!         Rejected: fail "ErrorName", cause "Why";
//!     }
//! }
//! ```
//!
//! Task options, after the transition, comma-separated:
//! `retry Error::A | States::Timeout { max_attempts: 3, interval: 1s, backoff: 2.0,
//! max_delay: 30s, jitter: full }`, `catch Error::B -> State`, `timeout 10s`, `heartbeat 2s`.
//! A workflow-wide `timeout 1h;` statement bounds a whole execution.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{
    braced, Attribute, Expr, GenericArgument, Ident, LitStr, Path, PathArguments, Token, Type,
    Visibility,
};

use crate::diagnostics::Errors;
use crate::duration::DurationLit;
use crate::names;

/// A whole `workflow!` invocation.
pub(super) struct WorkflowAst {
    pub(super) attrs: Vec<Attribute>,
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
    /// `wait 30s -> Next` or `wait until selector -> Next`
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
    /// `fail "Error"` or `fail "Error", cause "Why"`
    Fail {
        error: LitStr,
        cause: Option<LitStr>,
    },
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
}

/// An option of a task state.
pub(super) enum TaskOption {
    /// `retry A | B { key: value, ... }`
    Retry {
        keyword: Ident,
        errors: Vec<ErrorItem>,
        params: Vec<RetryParam>,
    },
    /// `catch A | B -> State`
    Catch {
        keyword: Ident,
        errors: Vec<ErrorItem>,
        target: Ident,
    },
    /// `timeout 10s`
    Timeout {
        keyword: Ident,
        duration: DurationLit,
    },
    /// `heartbeat 2s`
    Heartbeat {
        keyword: Ident,
        duration: DurationLit,
    },
    /// `max_concurrency 4` (Map)
    MaxConcurrency { keyword: Ident, value: syn::LitInt },
    /// `tolerate 3` or `tolerate 10%` (Map)
    Tolerate {
        keyword: Ident,
        value: syn::Lit,
        percent: bool,
    },
}

/// An error in a `retry` or `catch` list: a path, or a name in a string (for a nested
/// workflow's errors, which no Rust type lists).
pub(super) enum ErrorItem {
    Path(ErrorRef),
    Name(LitStr),
}

/// An error named in `retry` or `catch`: `States::Timeout`, `PaymentError::Declined`,
/// `PaymentError::*`, or a struct error type `Overloaded`.
pub(super) struct ErrorRef {
    pub(super) leading_colon: Option<Token![::]>,
    pub(super) segments: Vec<Ident>,
    /// `::*`: every variant of the enum named by `segments`.
    pub(super) wildcard: Option<Token![*]>,
}

/// `key: value` in a retrier's braces.
pub(super) struct RetryParam {
    pub(super) key: Ident,
    pub(super) value: RetryValue,
}

pub(super) enum RetryValue {
    Duration(DurationLit),
    Number(syn::Lit),
    Word(Ident),
}

/// The word that ends an execution after a task: `-> end`.
pub(super) const END: &str = "end";

const STATE_KINDS: [&str; 8] = [
    "task", "choice", "wait", "pass", "parallel", "map", "succeed", "fail",
];

/// Parses the invocation. Errors in the header are fatal; errors in the body are collected
/// per statement so that every malformed statement is reported.
pub(super) fn parse(input: TokenStream) -> syn::Result<(WorkflowAst, Errors)> {
    let mut errors = Errors::default();
    let parser = |input: ParseStream<'_>| -> syn::Result<WorkflowAst> {
        let attrs = input.call(Attribute::parse_outer)?;
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

impl Parse for StateBody {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let kinds = "`task`, `choice`, `wait`, `pass`, `parallel`, `map`, `succeed` or `fail`";
        if input.is_empty() || input.peek(Token![;]) {
            return Err(input.error(format!("expected the state's kind: {kinds}")));
        }
        let keyword = input.call(Ident::parse_any).map_err(|error| {
            syn::Error::new(error.span(), format!("expected the state's kind: {kinds}"))
        })?;
        match keyword.to_string().as_str() {
            "task" => {
                let step: Path = input.call(Path::parse_mod_style).map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        "expected the step to run: `task charge -> Next`",
                    )
                })?;
                let next = parse_next(input, "a task state")?;
                let mut options = Vec::new();
                while input.peek(Token![,]) {
                    input.parse::<Token![,]>()?;
                    if input.is_empty() || input.peek(Token![;]) {
                        break;
                    }
                    options.push(input.parse()?);
                }
                Ok(StateBody::Task {
                    step,
                    next,
                    options,
                })
            }
            "choice" => {
                let body;
                braced!(body in input);
                let mut rules = Vec::new();
                let mut default: Option<Ident> = None;
                while !body.is_empty() {
                    if let Some(default) = &default {
                        return Err(syn::Error::new(
                            default.span(),
                            "the default branch `_ => State` must come last",
                        ));
                    }
                    if body.peek(Token![_]) {
                        body.parse::<Token![_]>()?;
                        body.parse::<Token![=>]>()?;
                        default = Some(body.call(Ident::parse_any)?);
                    } else {
                        let predicate: Expr = body.parse()?;
                        if !body.peek(Token![=>]) {
                            return Err(body.error("expected `=> State` after the condition"));
                        }
                        body.parse::<Token![=>]>()?;
                        let target = body.call(Ident::parse_any)?;
                        rules.push(ChoiceRule { predicate, target });
                    }
                    if body.is_empty() {
                        break;
                    }
                    body.parse::<Token![,]>()?;
                }
                Ok(StateBody::Choice {
                    keyword,
                    rules,
                    default,
                })
            }
            "wait" => {
                let wait = if input.peek(Ident::peek_any)
                    && input.fork().call(Ident::parse_any)? == "until"
                {
                    input.call(Ident::parse_any)?;
                    WaitFor::Until(expr_before_arrow(input)?)
                } else {
                    WaitFor::Duration(input.parse()?)
                };
                let next = parse_next(input, "a wait state")?;
                Ok(StateBody::Wait { wait, next })
            }
            "pass" => {
                let transform = if input.peek(Token![->]) {
                    None
                } else {
                    Some(expr_before_arrow(input)?)
                };
                let next = parse_next(input, "a pass state")?;
                Ok(StateBody::Pass { transform, next })
            }
            "parallel" => {
                let body;
                braced!(body in input);
                let mut branches = Vec::new();
                while !body.is_empty() {
                    let branch_keyword = body.call(Ident::parse_any)?;
                    if branch_keyword != "branch" {
                        return Err(syn::Error::new(
                            branch_keyword.span(),
                            "expected `branch { start State; ... }`",
                        ));
                    }
                    let inner;
                    braced!(inner in body);
                    branches.push(Branch {
                        keyword: branch_keyword,
                        items: parse_items(inner.parse()?)?,
                    });
                    if body.peek(Token![,]) {
                        body.parse::<Token![,]>()?;
                    }
                }
                let next = parse_next(input, "a parallel state")?;
                let options = parse_options(input)?;
                Ok(StateBody::Parallel {
                    keyword,
                    branches,
                    next,
                    options,
                })
            }
            "map" => {
                let (items, body) = selector_and_body(input)?;
                let iteration = Branch {
                    keyword: keyword.clone(),
                    items: parse_items(body)?,
                };
                let next = parse_next(input, "a map state")?;
                let options = parse_options(input)?;
                Ok(StateBody::Map {
                    keyword,
                    items,
                    iteration,
                    next,
                    options,
                })
            }
            "succeed" => Ok(StateBody::Succeed),
            "fail" => {
                let error: LitStr = input.parse().map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        "expected the error name: `fail \"OrderRejected\"`",
                    )
                })?;
                let mut cause = None;
                if input.peek(Token![,]) {
                    input.parse::<Token![,]>()?;
                    let option = input.call(Ident::parse_any)?;
                    if option != "cause" {
                        return Err(syn::Error::new(
                            option.span(),
                            format!("unknown fail option `{option}`; the only option is `cause \"...\"`"),
                        ));
                    }
                    cause = Some(input.parse().map_err(|error| {
                        syn::Error::new(
                            error.span(),
                            "expected the cause as a string: `cause \"...\"`",
                        )
                    })?);
                }
                Ok(StateBody::Fail { error, cause })
            }
            other => Err(syn::Error::new(
                keyword.span(),
                format!(
                    "unknown state kind `{other}`: expected {kinds}{}",
                    names::did_you_mean(other, STATE_KINDS)
                ),
            )),
        }
    }
}

/// `, option, option...` after a state's transition.
fn parse_options(input: ParseStream<'_>) -> syn::Result<Vec<TaskOption>> {
    let mut options = Vec::new();
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        if input.is_empty() || input.peek(Token![;]) {
            break;
        }
        options.push(input.parse()?);
    }
    Ok(options)
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

/// A Map state's `selector { body } -> ...`: the selector is everything before the brace group
/// that directly precedes an arrow and leaves a whole expression before it.
fn selector_and_body(input: ParseStream<'_>) -> syn::Result<(Expr, TokenStream)> {
    let tokens: Vec<TokenTree> = input.fork().parse::<TokenStream>()?.into_iter().collect();
    for (index, token) in tokens.iter().enumerate() {
        let TokenTree::Group(group) = token else {
            continue;
        };
        if group.delimiter() != Delimiter::Brace || !starts_arrow(&tokens[index + 1..]) {
            continue;
        }
        let before: TokenStream = tokens[..index].iter().cloned().collect();
        if let Ok(selector) = syn::parse2::<Expr>(before) {
            for _ in 0..=index {
                input.parse::<TokenTree>()?;
            }
            return Ok((selector, group.stream()));
        }
    }
    Err(input.error("expected `map selector { start State; ... } -> Next`, where the selector takes `&Input` and returns the items"))
}

fn starts_arrow(tokens: &[TokenTree]) -> bool {
    matches!(tokens, [TokenTree::Punct(minus), TokenTree::Punct(greater), ..]
        if minus.as_char() == '-' && minus.spacing() == proc_macro2::Spacing::Joint && greater.as_char() == '>')
}

/// An expression followed by `-> Next`. Rust's grammar would read `x -> Next` as `x - >...`,
/// so the expression is cut at the first `->` that leaves a whole expression before it (the
/// `->` of a closure's return type does not).
fn expr_before_arrow(input: ParseStream<'_>) -> syn::Result<Expr> {
    let tokens: Vec<TokenTree> = input.fork().parse::<TokenStream>()?.into_iter().collect();
    let arrows = tokens
        .windows(2)
        .enumerate()
        .filter_map(|(index, pair)| match pair {
            [TokenTree::Punct(minus), TokenTree::Punct(greater)]
                if minus.as_char() == '-'
                    && minus.spacing() == proc_macro2::Spacing::Joint
                    && greater.as_char() == '>' =>
            {
                Some(index)
            }
            _ => None,
        });
    for arrow in arrows {
        let before: TokenStream = tokens[..arrow].iter().cloned().collect();
        if let Ok(expr) = syn::parse2::<Expr>(before) {
            // Consume exactly the tokens of the expression.
            for _ in 0..arrow {
                input.parse::<TokenTree>()?;
            }
            return Ok(expr);
        }
    }
    Err(input.error("expected an expression followed by `-> NextState`"))
}

/// `-> Next` (or `-> end`) after a state's main clause.
fn parse_next(input: ParseStream<'_>, what: &str) -> syn::Result<Ident> {
    if !input.peek(Token![->]) {
        return Err(input.error(format!(
            "{what} needs a transition: `-> NextState` or `-> end`"
        )));
    }
    input.parse::<Token![->]>()?;
    input
        .call(Ident::parse_any)
        .map_err(|error| syn::Error::new(error.span(), "expected the next state's name, or `end`"))
}

const TASK_OPTIONS: [&str; 6] = [
    "retry",
    "catch",
    "timeout",
    "heartbeat",
    "max_concurrency",
    "tolerate",
];

impl Parse for TaskOption {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword = input.call(Ident::parse_any).map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected an option: `retry`, `catch`, `timeout`, `heartbeat`, `max_concurrency` or `tolerate`",
            )
        })?;
        match keyword.to_string().as_str() {
            "retry" => {
                let errors = parse_error_list(input)?;
                let mut params = Vec::new();
                if input.peek(syn::token::Brace) {
                    let body;
                    braced!(body in input);
                    let parsed = body.parse_terminated(RetryParam::parse, Token![,])?;
                    params.extend(parsed);
                }
                Ok(TaskOption::Retry { keyword, errors, params })
            }
            "catch" => {
                let errors = parse_error_list(input)?;
                if !input.peek(Token![->]) {
                    return Err(input.error("a catcher needs a target: `catch Error::Variant -> State`"));
                }
                input.parse::<Token![->]>()?;
                let target = input
                    .call(Ident::parse_any)
                    .map_err(|error| syn::Error::new(error.span(), "expected the state that handles the error"))?;
                Ok(TaskOption::Catch { keyword, errors, target })
            }
            "timeout" => Ok(TaskOption::Timeout {
                keyword,
                duration: input.parse()?,
            }),
            "heartbeat" => Ok(TaskOption::Heartbeat {
                keyword,
                duration: input.parse()?,
            }),
            "max_concurrency" => Ok(TaskOption::MaxConcurrency {
                keyword,
                value: input.parse()?,
            }),
            "tolerate" => {
                let value: syn::Lit = input.parse()?;
                let percent = input.peek(Token![%]);
                if percent {
                    input.parse::<Token![%]>()?;
                }
                Ok(TaskOption::Tolerate { keyword, value, percent })
            }
            other => Err(syn::Error::new(
                keyword.span(),
                format!(
                    "unknown option `{other}`: expected `retry`, `catch`, `timeout`, `heartbeat`, `max_concurrency` or `tolerate`{}",
                    names::did_you_mean(other, TASK_OPTIONS)
                ),
            )),
        }
    }
}

/// `A | B | C`.
fn parse_error_list(input: ParseStream<'_>) -> syn::Result<Vec<ErrorItem>> {
    let item = |input: ParseStream<'_>| -> syn::Result<ErrorItem> {
        if input.peek(LitStr) {
            Ok(ErrorItem::Name(input.parse()?))
        } else {
            Ok(ErrorItem::Path(input.parse()?))
        }
    };
    let mut errors = vec![item(input)?];
    while input.peek(Token![|]) {
        input.parse::<Token![|]>()?;
        errors.push(item(input)?);
    }
    Ok(errors)
}

impl Parse for ErrorRef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let usage = "expected an error: `MyError::Variant`, `MyError::*` or `States::Timeout`";
        let leading_colon = input.parse()?;
        let first = input
            .call(Ident::parse_any)
            .map_err(|error| syn::Error::new(error.span(), usage))?;
        let mut segments = vec![first];
        let mut wildcard = None;
        while input.peek(Token![::]) {
            input.parse::<Token![::]>()?;
            if input.peek(Token![*]) {
                wildcard = Some(input.parse()?);
                break;
            }
            segments.push(
                input
                    .call(Ident::parse_any)
                    .map_err(|error| syn::Error::new(error.span(), usage))?,
            );
        }
        Ok(ErrorRef {
            leading_colon,
            segments,
            wildcard,
        })
    }
}

impl ErrorRef {
    /// The path as written, without a trailing `::*`.
    pub(super) fn path(&self) -> TokenStream {
        let leading = &self.leading_colon;
        let segments = &self.segments;
        quote::quote!(#leading #(#segments)::*)
    }

    /// The path of the error type: everything but the last segment, or (for `E::*`) all of it.
    pub(super) fn type_path(&self) -> TokenStream {
        let leading = &self.leading_colon;
        let segments = if self.wildcard.is_some() {
            &self.segments[..]
        } else {
            &self.segments[..self.segments.len().saturating_sub(1)]
        };
        quote::quote!(#leading #(#segments)::*)
    }

    /// The error type itself, for a clause on a Parallel or Map state (which has no single
    /// step): the path without its variant, or a one-segment path (a struct error type).
    pub(super) fn error_type(&self) -> TokenStream {
        if self.segments.len() == 1 && self.wildcard.is_none() {
            self.path()
        } else {
            self.type_path()
        }
    }

    /// The last segment: a variant (or a struct error type).
    pub(super) fn last(&self) -> &Ident {
        // Parsing guarantees at least one segment.
        &self.segments[self.segments.len() - 1]
    }

    /// The first token written, for error spans.
    pub(super) fn span(&self) -> Span {
        self.segments[0].span()
    }

    /// The error as the user wrote it, e.g. `PaymentError::*`.
    pub(super) fn text(&self) -> String {
        let mut text = self
            .segments
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("::");
        if self.wildcard.is_some() {
            text.push_str("::*");
        }
        text
    }
}

impl quote::ToTokens for ErrorRef {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.path().to_tokens(tokens);
        if let Some(wildcard) = &self.wildcard {
            quote::quote!(::).to_tokens(tokens);
            wildcard.to_tokens(tokens);
        }
    }
}

impl Parse for RetryParam {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![:]>()?;
        if input.peek(Token![-]) {
            return Err(input.error(format!("`{key}` cannot be negative")));
        }
        let value = match key.to_string().as_str() {
            "interval" | "max_delay" => RetryValue::Duration(input.parse()?),
            "jitter" => RetryValue::Word(input.call(Ident::parse_any)?),
            _ if input.peek(syn::Lit) => RetryValue::Number(input.parse()?),
            _ => RetryValue::Word(input.call(Ident::parse_any)?),
        };
        Ok(RetryParam { key, value })
    }
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

    /// The span to point at when talking about the whole declaration.
    pub(super) fn span(&self) -> Span {
        self.name.span()
    }
}
