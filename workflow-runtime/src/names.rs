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
    // Whitespace, brackets, wildcards, special and control characters are refused.
    name.chars()
        .find(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(*c))
        .map(|bad| {
            format!(
                "it contains `{}`, which names cannot contain",
                bad.escape_default()
            )
        })
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
        for bad in ["has space", "tab\there", "a*b", "a[1]", "a/b", "nul\0"] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
    }
}
