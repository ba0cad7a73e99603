//! Durations in macro input: `"10s"` in attributes, `10s` / `250ms` / `24h` in `workflow!`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Lit, LitStr};

/// A duration the user wrote, in milliseconds, with where they wrote it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DurationLit {
    pub(crate) millis: u64,
    pub(crate) span: Span,
}

const UNITS: &str = "`ms`, `s`, `m`, `h` or `d`";

impl DurationLit {
    /// Parses the text of a string literal: a number and a unit (`"10s"`, `"1h 30m"`).
    pub(crate) fn from_str_lit(text: &LitStr) -> syn::Result<Self> {
        let value = text.value();
        let duration = humantime::parse_duration(value.trim()).map_err(|error| {
            syn::Error::new(
                text.span(),
                format!("`{value}` is not a duration ({error}); write e.g. \"10s\", \"500ms\" or \"1h 30m\""),
            )
        })?;
        Self::checked(duration.as_millis(), &value, text.span())
    }

    fn checked(millis: u128, written: &str, span: Span) -> syn::Result<Self> {
        if millis == 0 {
            return Err(syn::Error::new(
                span,
                format!("`{written}`: a duration must be at least 1ms"),
            ));
        }
        let millis = u64::try_from(millis)
            .map_err(|_| syn::Error::new(span, format!("`{written}` is too long a duration")))?;
        Ok(DurationLit { millis, span })
    }
}

impl Parse for DurationLit {
    /// A literal with a unit suffix: `10s`, `250ms`, `24h`, `7d`, or a string literal.
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let span = input.span();
        let lit: Lit = input.parse().map_err(|_| {
            syn::Error::new(
                span,
                format!("expected a duration such as `10s`, with unit {UNITS}"),
            )
        })?;
        let (digits, unit) = match &lit {
            Lit::Str(text) => return Self::from_str_lit(text),
            Lit::Int(int) => (int.base10_digits().to_owned(), int.suffix().to_owned()),
            Lit::Float(float) => {
                return Err(syn::Error::new(
                    float.span(),
                    format!(
                    "`{float}`: write durations in whole units, e.g. `1500ms` rather than `1.5s`"
                ),
                ))
            }
            _ => {
                return Err(syn::Error::new(
                    span,
                    format!("expected a duration such as `10s`, with unit {UNITS}"),
                ))
            }
        };
        let per_unit: u128 = match unit.as_str() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => {
                return Err(syn::Error::new(
                    span,
                    format!("`{digits}` needs a unit: {UNITS} (e.g. `{digits}s`)"),
                ))
            }
            other => {
                return Err(syn::Error::new(
                    span,
                    format!("`{digits}{other}`: unknown unit `{other}`; use {UNITS}"),
                ))
            }
        };
        let count: u128 = digits.parse().map_err(|_| {
            syn::Error::new(span, format!("`{digits}{unit}` is too long a duration"))
        })?;
        let millis = count.checked_mul(per_unit).ok_or_else(|| {
            syn::Error::new(span, format!("`{digits}{unit}` is too long a duration"))
        })?;
        Self::checked(millis, &format!("{digits}{unit}"), span)
    }
}
