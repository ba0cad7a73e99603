//! The body of a state declaration: what follows `Name:`.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{braced, Expr, Ident, LitStr, Path, Token};

use super::{parse_items, Branch, ChoiceRule, FailText, StateBody, TaskOption, WaitFor};
use crate::names;

const STATE_KINDS: [&str; 8] = [
    "task", "choice", "wait", "pass", "parallel", "map", "succeed", "fail",
];

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
                missing_comma(input)?;
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
                let word = match input.peek(Ident::peek_any) {
                    true => Some(input.fork().call(Ident::parse_any)?.to_string()),
                    false => None,
                };
                let wait = match word.as_deref() {
                    Some("until") => {
                        input.call(Ident::parse_any)?;
                        WaitFor::Until(expr_before_arrow(input)?)
                    }
                    Some("for") => {
                        input.call(Ident::parse_any)?;
                        WaitFor::DurationFrom(expr_before_arrow(input)?)
                    }
                    _ if input.peek(syn::Lit) => WaitFor::Duration(input.parse()?),
                    _ => return Err(input.error(
                        "expected what to wait for: a duration (`wait 30s`), a function of the input returning a `Duration` (`wait for |input: &Input| ...`), or one returning a `SystemTime` (`wait until |input: &Input| ...`)",
                    )),
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
                let ends = |input: ParseStream<'_>| input.is_empty() || input.peek(Token![;]);
                let mut error = None;
                if !ends(input) && !cause_follows(input) {
                    error = Some(fail_text(input, "the error name: `fail \"OrderRejected\"`, or a function of the input computing it: `fail |order: &Order| order.code.clone()`")?);
                    if input.peek(Token![,]) {
                        input.parse::<Token![,]>()?;
                    }
                }
                let mut cause = None;
                if !ends(input) {
                    let option = input.call(Ident::parse_any).map_err(|error| {
                        syn::Error::new(
                            error.span(),
                            "expected `cause \"...\"` or the end of the state",
                        )
                    })?;
                    if option != "cause" {
                        return Err(syn::Error::new(
                            option.span(),
                            format!("unknown fail option `{option}`; the only option is `cause \"...\"`"),
                        ));
                    }
                    cause = Some(fail_text(input, "the cause: `cause \"...\"`, or a function of the input computing it: `cause |order: &Order| format!(...)`")?);
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
    missing_comma(input)?;
    Ok(options)
}

/// The words that start a state's option.
const OPTION_WORDS: [&str; 6] = [
    "retry",
    "catch",
    "timeout",
    "heartbeat",
    "max_concurrency",
    "tolerate",
];

/// An option after the transition or another option without the comma between them: said
/// so, rather than left to the `;` the state's end expects.
fn missing_comma(input: ParseStream<'_>) -> syn::Result<()> {
    match input.cursor().ident() {
        Some((word, _)) if OPTION_WORDS.contains(&word.to_string().as_str()) => {
            Err(syn::Error::new(
                word.span(),
                format!("expected `,` before `{word}`: a state's options are separated by commas"),
            ))
        }
        _ => Ok(()),
    }
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

/// Whether the input goes on with the `cause` option (and not with a function named `cause`).
fn cause_follows(input: ParseStream<'_>) -> bool {
    let fork = input.fork();
    match fork.call(Ident::parse_any) {
        Ok(word) => {
            word == "cause" && !(fork.is_empty() || fork.peek(Token![;]) || fork.peek(Token![,]))
        }
        Err(_) => false,
    }
}

/// A Fail state's error name or cause: a string, or a function of the input.
fn fail_text(input: ParseStream<'_>, expected: &str) -> syn::Result<FailText> {
    if input.peek(LitStr) {
        return Ok(FailText::Given(input.parse()?));
    }
    input
        .parse()
        .map(FailText::Computed)
        .map_err(|error| syn::Error::new(error.span(), format!("expected {expected}")))
}
