//! Rules for execution names, as Step Functions has them.

/// The longest an execution name may be.
pub(crate) const MAX_NAME_LEN: usize = 80;

/// Why `name` cannot name an execution, if it cannot.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a name cannot be empty".to_owned());
    }
    let length = name.chars().count();
    if length > MAX_NAME_LEN {
        return Some(format!(
            "it is {length} characters long; names have at most {MAX_NAME_LEN}"
        ));
    }
    // Whitespace, brackets, wildcards, special and control characters are refused, and so
    // are the invisible ones that make a name read as another (bidirectional overrides,
    // zero-width characters, the byte-order mark).
    name.chars()
        .find(|c| {
            c.is_whitespace()
                || c.is_control()
                || is_invisible(*c)
                || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(*c)
        })
        .map(|bad| {
            format!(
                "it contains `{}`, which names cannot contain",
                bad.escape_default()
            )
        })
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

/// The longest error name a callback failure or a stop may carry, as in Step Functions.
pub(crate) const MAX_ERROR_LEN: usize = 256;

/// The longest cause a callback failure or a stop may carry, as in Step Functions.
pub(crate) const MAX_CAUSE_LEN: usize = 32_768;

/// Why `error` and `cause` cannot end a task or an execution from outside, if they cannot.
pub(crate) fn failure_problem(error: &str, cause: &str) -> Option<String> {
    let error_length = error.chars().count();
    let cause_length = cause.chars().count();
    if error_length > MAX_ERROR_LEN {
        Some(format!(
            "the error name is {error_length} characters long; error names have at most {MAX_ERROR_LEN}"
        ))
    } else if cause_length > MAX_CAUSE_LEN {
        Some(format!(
            "the cause is {cause_length} characters long; causes have at most {MAX_CAUSE_LEN}"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_step_functions_rules() {
        assert_eq!(name_problem("order-1001_retry.2"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem(&"x".repeat(81)).is_some());
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
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    #[test]
    fn failures_from_outside_are_bounded() {
        assert_eq!(failure_problem("Rejected", "no budget"), None);
        assert!(failure_problem(&"E".repeat(257), "").is_some());
        assert!(failure_problem("E", &"c".repeat(32_769)).is_some());
        assert_eq!(failure_problem(&"E".repeat(256), &"c".repeat(32_768)), None);
    }
}
