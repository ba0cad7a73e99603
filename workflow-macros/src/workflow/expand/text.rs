//! Rust code as text, for documentation, definitions and messages: formatted as rustfmt
//! would, on one line.

/// A type (or a path, such as a step's) as text for documentation and messages, formatted as
/// rustfmt would: `Vec<Line>`, `checkout::charge`. Multi-line text is joined into one line.
pub(super) fn type_text(ty: &impl quote::ToTokens) -> String {
    let file: syn::File = syn::parse_quote!(type __T = #ty;);
    let formatted = prettyplease::unparse(&file);
    let joined = formatted
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    joined
        .strip_prefix("type __T = ")
        .and_then(|text| text.strip_suffix(';'))
        .unwrap_or(&joined)
        .to_owned()
}

/// An expression as text for documentation and definitions, formatted as rustfmt would:
/// `|order: &Order| order.total > 100`. Multi-line code is joined into one line.
pub(super) fn expr_text(expr: &syn::Expr) -> String {
    let file: syn::File = syn::parse_quote!(fn __f() { #expr });
    let formatted = prettyplease::unparse(&file);
    let lines: Vec<&str> = formatted.lines().collect();
    // The first and last lines are the wrapping function's.
    let body = lines
        .get(1..lines.len().saturating_sub(1))
        .unwrap_or_default();
    body.iter()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::{expr_text, type_text};

    #[test]
    fn types_and_paths_read_as_written() {
        let cases: [(syn::Type, &str); 5] = [
            (syn::parse_quote!(Order), "Order"),
            (syn::parse_quote!(checkout::charge), "checkout::charge"),
            (syn::parse_quote!(Vec<Line>), "Vec<Line>"),
            (syn::parse_quote!((u64, String)), "(u64, String)"),
            (
                syn::parse_quote!(Option<&'static str>),
                "Option<&'static str>",
            ),
        ];
        for (ty, text) in cases {
            assert_eq!(type_text(&ty), text);
        }
    }

    #[test]
    fn expressions_read_as_rustfmt_writes_them() {
        let expr: syn::Expr = syn::parse_quote!(|order: &Order| order.total > 100);
        assert_eq!(expr_text(&expr), "|order: &Order| order.total > 100");
    }
}
