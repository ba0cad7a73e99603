//! Error names, as in Step Functions: predefined `States.*` names and user error names.

use std::convert::Infallible;
use std::fmt;

pub use workflow_core::States;

use crate::execution::ExecutionId;

/// An error a step can return, with a Step Functions–style name for each case.
///
/// Derive it with `#[derive(StepError)]`: every variant of an enum gets the name
/// `Enum.Variant` (a struct gets its type name), unless `#[step_error(name = "...")]` sets
/// another. Names never start with `States.`, which is reserved for [`States`]. The cause shown
/// beside the name is the error's [`Display`](fmt::Display) text.
///
/// ```
/// use workflow::prelude::*;
///
/// #[derive(Debug, thiserror::Error, StepError)]
/// enum PaymentError {
///     #[error("the card was declined")]
///     Declined,
///     #[error("the gateway did not answer in time")]
///     GatewayTimeout,
/// }
///
/// assert_eq!(PaymentError::Declined.error_name(), "PaymentError.Declined");
/// assert_eq!(
///     PaymentError::ERROR_NAMES,
///     ["PaymentError.Declined", "PaymentError.GatewayTimeout"]
/// );
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a step error: it does not derive `StepError`",
    label = "a step's error type must derive `StepError`, which names its cases for `retry` and `catch`",
    note = "to raise an error of another crate, wrap it in one of your own: `#[derive(Debug, thiserror::Error, StepError)] enum MyError {{ #[error(transparent)] Failed(#[from] {Self}) }}`; `?` then converts it"
)]
pub trait StepError: fmt::Display + fmt::Debug + Send + Sync + 'static {
    /// Every name a value of this type can have, in declaration order.
    const ERROR_NAMES: &'static [&'static str];

    /// This error's name, e.g. `PaymentError.Declined`.
    fn error_name(&self) -> &str;

    /// The human-readable cause recorded beside the name (the `Display` text by default).
    fn cause(&self) -> String {
        self.to_string()
    }

    /// The name of the variant (or, for a struct, the type) called `variant` in Rust, for
    /// `retry` and `catch` clauses that name it. By default, the name in
    /// [`ERROR_NAMES`](Self::ERROR_NAMES) whose last dot-separated part is `variant`.
    fn name_of_variant(variant: &str) -> Option<&'static str> {
        Self::ERROR_NAMES
            .iter()
            .copied()
            .find(|name| name.rsplit('.').next() == Some(variant))
    }
}

/// A step that cannot fail has `Infallible` as its error type.
impl StepError for Infallible {
    const ERROR_NAMES: &'static [&'static str] = &[];

    fn error_name(&self) -> &str {
        match *self {}
    }
}

/// Why a nested workflow (a task running a child execution) failed: the child's error name
/// and cause, which the parent's retriers and catchers match by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildFailure {
    execution: ExecutionId,
    error: String,
    cause: String,
}

impl ChildFailure {
    pub(crate) fn new(execution: ExecutionId, error: &str, cause: &str) -> Self {
        ChildFailure {
            execution,
            error: error.to_owned(),
            cause: cause.to_owned(),
        }
    }

    /// The child execution that failed.
    pub fn execution(&self) -> &ExecutionId {
        &self.execution
    }
}

impl fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cause)
    }
}

impl std::error::Error for ChildFailure {}

/// A child's errors are not known to the type: they are whatever the child workflow raises.
impl StepError for ChildFailure {
    const ERROR_NAMES: &'static [&'static str] = &[];

    fn error_name(&self) -> &str {
        &self.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_names_round_trip() {
        for error in States::EVERY {
            assert!(error.name().starts_with("States."));
            assert_eq!(States::from_name(error.name()), Some(error));
        }
        assert_eq!(States::from_name("PaymentError.Declined"), None);
        assert!("States.Timeout" == States::Timeout);
    }
}
