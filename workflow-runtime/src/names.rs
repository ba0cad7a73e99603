//! Rules for execution names, as Step Functions has them.

/// Why `name` cannot name an execution, if it cannot: `workflow_core`'s rules, the same the
/// macros apply to state and workflow names.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    workflow_core::names::name_problem(name).map(|problem| problem.to_string())
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
