//! Step Functions' rules for the names of states, steps, workflows and executions: one
//! definition, which the macros apply at compile time and the runtime to execution names.

use std::fmt;

/// The longest a name may be, in characters.
pub const MAX_NAME_LEN: usize = 80;

/// Why a string cannot be a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// The name has more than [`MAX_NAME_LEN`] characters.
    TooLong {
        /// Its length in characters.
        length: usize,
    },
    /// The name contains a character names cannot contain: whitespace, a control or an
    /// invisible character, or one of `<>{}[]?*"#%\^|~` `` ` `` `$&,;:/`.
    Forbidden(char),
}

/// Why `name` cannot be a name, if it cannot.
pub fn name_problem(name: &str) -> Option<NameProblem> {
    if name.is_empty() {
        return Some(NameProblem::Empty);
    }
    let length = name.chars().count();
    if length > MAX_NAME_LEN {
        return Some(NameProblem::TooLong { length });
    }
    // Whitespace, brackets, wildcards, special and control characters are refused, and so
    // are the invisible ones that make a name read as another (bidirectional overrides,
    // zero-width characters, the byte-order mark).
    name.chars()
        .find(|&c| {
            c.is_whitespace()
                || c.is_control()
                || is_invisible(c)
                || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
        })
        .map(NameProblem::Forbidden)
}

/// Characters that change how text around them reads, or show nothing at all.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space, joiners, direction marks
        | '\u{202A}'..='\u{202E}' // bidirectional embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidirectional isolates
        | '\u{FEFF}' // byte-order mark
        | '\u{061C}' // Arabic letter mark
    )
}

impl fmt::Display for NameProblem {
    /// The problem, of a name called "it": `it contains `*`, which names cannot contain`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => f.write_str("a name cannot be empty"),
            NameProblem::TooLong { length } => write!(
                f,
                "it is {length} characters long; names have at most {MAX_NAME_LEN}"
            ),
            NameProblem::Forbidden(c) => write!(
                f,
                "it contains `{}`, which names cannot contain",
                c.escape_default()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_step_functions_rules() {
        assert_eq!(name_problem("order-1001_retry.2"), None);
        assert_eq!(name_problem(""), Some(NameProblem::Empty));
        assert_eq!(
            name_problem(&"x".repeat(81)),
            Some(NameProblem::TooLong { length: 81 })
        );
        assert_eq!(name_problem(&"x".repeat(80)), None);
        assert_eq!(name_problem("commande-été-1"), None);
        for bad in [
            "has space",
            "tab\there",
            "a*b",
            "a[1]",
            "a/b",
            "nul\0",
            "order\u{202E}gpj.exe",
            "zero\u{200B}width",
            "\u{FEFF}bom",
            "isolate\u{2066}d",
        ] {
            assert!(
                matches!(name_problem(bad), Some(NameProblem::Forbidden(_))),
                "{bad:?}"
            );
        }
    }
}
