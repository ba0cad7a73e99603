//! Reading the error type and its `#[step_error(name = "...")]` attributes.

use proc_macro2::Span;
use syn::{Attribute, Data, DeriveInput, Generics, Ident, LitStr};

use crate::diagnostics::Errors;

/// An error type and the name of each of its cases.
pub(super) struct ErrorType {
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) cases: Cases,
}

pub(super) enum Cases {
    /// An enum: one name per variant.
    Enum(Vec<Variant>),
    /// A struct: one name.
    Struct(String),
}

pub(super) struct Variant {
    pub(super) ident: Ident,
    pub(super) name: String,
}

/// The error type and its names as far as they read; what is wrong with them goes to
/// `errors`.
pub(super) fn parse(input: &DeriveInput, errors: &mut Errors) -> ErrorType {
    let type_name = input.ident.to_string();
    let cases = match &input.data {
        Data::Enum(data) => {
            let mut variants: Vec<Variant> = Vec::new();
            for variant in &data.variants {
                let default = format!("{type_name}.{}", variant.ident);
                let (name, span) = match custom_name(&variant.attrs, errors) {
                    Some(custom) => (custom.value(), custom.span()),
                    None => (default, variant.ident.span()),
                };
                check_name(&name, span, errors);
                if variants.iter().any(|other| other.name == name) {
                    errors.at(
                        span,
                        format!("two variants are named `{name}`; error names must be unique"),
                    );
                }
                variants.push(Variant {
                    ident: variant.ident.clone(),
                    name,
                });
            }
            Cases::Enum(variants)
        }
        Data::Struct(_) => {
            let (name, span) = match custom_name(&input.attrs, errors) {
                Some(custom) => (custom.value(), custom.span()),
                None => (type_name, input.ident.span()),
            };
            check_name(&name, span, errors);
            Cases::Struct(name)
        }
        Data::Union(data) => {
            errors.at(
                data.union_token.span,
                "`StepError` can be derived for enums and structs, not unions",
            );
            Cases::Struct(type_name)
        }
    };
    if let (Data::Enum(_), Some(attr)) = (&input.data, find_attr(&input.attrs)) {
        errors.at_tokens(
            attr,
            "on an enum, `#[step_error(name = \"...\")]` goes on the variants, each of which has its own name",
        );
    }
    ErrorType {
        ident: input.ident.clone(),
        generics: input.generics.clone(),
        cases,
    }
}

fn find_attr(attrs: &[Attribute]) -> Option<&Attribute> {
    attrs.iter().find(|attr| attr.path().is_ident("step_error"))
}

/// The name given by `#[step_error(name = "...")]`, if any.
fn custom_name(attrs: &[Attribute], errors: &mut Errors) -> Option<LitStr> {
    let mut name = None;
    for attr in attrs
        .iter()
        .filter(|attr| attr.path().is_ident("step_error"))
    {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let value: LitStr = meta.value()?.parse()?;
                if name.replace(value).is_some() {
                    return Err(meta.error("`name` is given more than once"));
                }
                Ok(())
            } else {
                Err(meta.error("unknown `step_error` option; the only option is `name = \"...\"`"))
            }
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    name
}

fn check_name(name: &str, span: Span, errors: &mut Errors) {
    if name.trim().is_empty() {
        errors.at(span, "an error name cannot be empty");
    } else if name.starts_with("States.") {
        errors.at(
            span,
            format!("error name `{name}`: names starting with `States.` are reserved for the predefined errors; rename the type or set `#[step_error(name = \"...\")]`"),
        );
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.at(
            span,
            format!("error name `{name}` cannot contain whitespace"),
        );
    }
}
