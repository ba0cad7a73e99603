//! The options of task, parallel and map states: `retry`, `catch`, `timeout`, `heartbeat`,
//! `max_concurrency` and `tolerate`. The last four take a value as written or a function of
//! the state's input.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{braced, Expr, Ident, LitStr, Token};

use super::Setting;
use crate::duration::DurationLit;
use crate::names;

/// An option of a task state.
pub(in crate::workflow) enum TaskOption {
    /// `retry A | B { key: value, ... }`, or `retry unchecked "Name" ...`
    Retry {
        keyword: Ident,
        unchecked: Option<Ident>,
        errors: Vec<ErrorItem>,
        params: Vec<RetryParam>,
    },
    /// `catch A | B -> State`, or `catch unchecked "Name" -> State`
    Catch {
        keyword: Ident,
        unchecked: Option<Ident>,
        errors: Vec<ErrorItem>,
        target: Ident,
    },
    /// `timeout 10s` or `timeout |input: &T| duration`
    Timeout {
        keyword: Ident,
        duration: Setting<DurationLit>,
    },
    /// `heartbeat 2s` or `heartbeat |input: &T| duration`
    Heartbeat {
        keyword: Ident,
        duration: Setting<DurationLit>,
    },
    /// `max_concurrency 4` or `max_concurrency |input: &T| n` (Map)
    MaxConcurrency {
        keyword: Ident,
        value: Setting<syn::LitInt>,
    },
    /// `tolerate 3`, `tolerate 10%`, `tolerate |input: &T| n` or `tolerate |input: &T| share %`
    /// (Map)
    Tolerate {
        keyword: Ident,
        value: Setting<syn::Lit>,
        percent: bool,
    },
}

/// An error in a `retry` or `catch` list: a path, or a name in a string (for a nested
/// workflow's errors, which no Rust type lists).
pub(in crate::workflow) enum ErrorItem {
    Path(ErrorRef),
    Name(LitStr),
}

/// An error named in `retry` or `catch`: `States::Timeout`, `PaymentError::Declined`,
/// `PaymentError::*`, or a struct error type `Overloaded`.
pub(in crate::workflow) struct ErrorRef {
    pub(in crate::workflow) leading_colon: Option<Token![::]>,
    pub(in crate::workflow) segments: Vec<Ident>,
    /// `::*`: every variant of the enum named by `segments`.
    pub(in crate::workflow) wildcard: Option<Token![*]>,
}

/// `key: value` in a retrier's braces.
pub(in crate::workflow) struct RetryParam {
    pub(in crate::workflow) key: Ident,
    pub(in crate::workflow) value: RetryValue,
}

pub(in crate::workflow) enum RetryValue {
    Duration(DurationLit),
    Number(syn::Lit),
    Word(Ident),
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
                let unchecked = parse_unchecked(input)?;
                let errors = parse_error_list(input)?;
                let mut params = Vec::new();
                if input.peek(syn::token::Brace) {
                    let body;
                    braced!(body in input);
                    let parsed = body.parse_terminated(RetryParam::parse, Token![,])?;
                    params.extend(parsed);
                }
                Ok(TaskOption::Retry { keyword, unchecked, errors, params })
            }
            "catch" => {
                let unchecked = parse_unchecked(input)?;
                let errors = parse_error_list(input)?;
                if !input.peek(Token![->]) {
                    return Err(input.error("a catcher needs a target: `catch Error::Variant -> State`"));
                }
                input.parse::<Token![->]>()?;
                let target = input
                    .call(Ident::parse_any)
                    .map_err(|error| syn::Error::new(error.span(), "expected the state that handles the error"))?;
                Ok(TaskOption::Catch { keyword, unchecked, errors, target })
            }
            "timeout" => Ok(TaskOption::Timeout {
                duration: setting(input, &keyword)?,
                keyword,
            }),
            "heartbeat" => Ok(TaskOption::Heartbeat {
                duration: setting(input, &keyword)?,
                keyword,
            }),
            "max_concurrency" => Ok(TaskOption::MaxConcurrency {
                value: setting(input, &keyword)?,
                keyword,
            }),
            "tolerate" => {
                if !input.peek(syn::Lit) {
                    let (function, percent) = function_and_percent(input)?;
                    return Ok(TaskOption::Tolerate {
                        keyword,
                        value: Setting::Computed(function),
                        percent,
                    });
                }
                let value: syn::Lit = input.parse()?;
                let percent = input.peek(Token![%]);
                if percent {
                    input.parse::<Token![%]>()?;
                }
                Ok(TaskOption::Tolerate {
                    keyword,
                    value: Setting::Given(value),
                    percent,
                })
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

/// A setting's value: a literal as written, or a function of the state's input.
fn setting<T: Parse>(input: ParseStream<'_>, keyword: &Ident) -> syn::Result<Setting<T>> {
    if input.peek(syn::Lit) {
        return input.parse().map(Setting::Given);
    }
    input.parse().map(Setting::Computed).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("expected a value for `{keyword}`, or a function of the state's input: `{keyword} |input: &Input| ...`"),
        )
    })
}

/// `tolerate`'s function, and whether a `%` follows it (a share rather than a count). Rust's
/// grammar would read `f %` as a remainder missing its right side, so the function is cut at
/// the last `%` before the option ends that leaves a whole expression before it.
fn function_and_percent(input: ParseStream<'_>) -> syn::Result<(Expr, bool)> {
    let tokens: Vec<TokenTree> = input.fork().parse::<TokenStream>()?.into_iter().collect();
    let ends_option = |rest: &[TokenTree]| match rest.first() {
        None => true,
        Some(TokenTree::Punct(punct)) => matches!(punct.as_char(), ',' | ';'),
        Some(_) => false,
    };
    for (index, token) in tokens.iter().enumerate() {
        let TokenTree::Punct(percent) = token else {
            continue;
        };
        if percent.as_char() != '%' || !ends_option(&tokens[index + 1..]) {
            continue;
        }
        let before: TokenStream = tokens[..index].iter().cloned().collect();
        if let Ok(function) = syn::parse2::<Expr>(before) {
            for _ in 0..=index {
                input.parse::<TokenTree>()?;
            }
            return Ok((function, true));
        }
    }
    let function = input.parse().map_err(|error| {
        syn::Error::new(
            error.span(),
            "`tolerate` takes a number of items (`tolerate 3`), a percentage (`tolerate 10%`), or a function of the state's input returning either (`tolerate |input: &Input| input.allowed`, `tolerate |input: &Input| input.share %`)",
        )
    })?;
    Ok((function, false))
}

/// `unchecked` before a clause's errors: a word followed by more than the end of a path (a
/// struct error type could be named `unchecked`, followed by `|`, `{`, `,` or `->`).
fn parse_unchecked(input: ParseStream<'_>) -> syn::Result<Option<Ident>> {
    let fork = input.fork();
    match fork.call(Ident::parse_any) {
        Ok(word)
            if word == "unchecked"
                && !(fork.is_empty()
                    || fork.peek(Token![|])
                    || fork.peek(Token![,])
                    || fork.peek(Token![::])
                    || fork.peek(Token![->])
                    || fork.peek(Token![;])
                    || fork.peek(syn::token::Brace)) =>
        {
            input.call(Ident::parse_any).map(Some)
        }
        _ => Ok(None),
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
    pub(in crate::workflow) fn path(&self) -> TokenStream {
        let leading = &self.leading_colon;
        let segments = &self.segments;
        quote::quote!(#leading #(#segments)::*)
    }

    /// The path of the error type: everything but the last segment, or (for `E::*`) all of it.
    pub(in crate::workflow) fn type_path(&self) -> TokenStream {
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
    pub(in crate::workflow) fn error_type(&self) -> TokenStream {
        if self.segments.len() == 1 && self.wildcard.is_none() {
            self.path()
        } else {
            self.type_path()
        }
    }

    /// The last segment: a variant (or a struct error type).
    pub(in crate::workflow) fn last(&self) -> &Ident {
        // Parsing guarantees at least one segment.
        &self.segments[self.segments.len() - 1]
    }

    /// The first token written, for error spans.
    pub(in crate::workflow) fn span(&self) -> Span {
        self.segments[0].span()
    }

    /// The error as the user wrote it, e.g. `PaymentError::*`.
    pub(in crate::workflow) fn text(&self) -> String {
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
