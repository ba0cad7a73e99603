//! Error names, as in Step Functions: predefined `States.*` names and user error names.

use std::convert::Infallible;
use std::fmt;

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

/// The predefined error names of the States Language (`States.*`).
///
/// The runtime raises these itself (a timeout, a lost worker, a payload over the size limit);
/// retriers and catchers match them by name like user errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum States {
    /// `States.ALL`: matches every error name except `States.DataLimitExceeded` and
    /// `States.Runtime`. Only valid alone and last in a list of retriers or catchers.
    All,
    /// `States.Timeout`: a task ran longer than its timeout, or the execution longer than its own.
    Timeout,
    /// `States.HeartbeatTimeout`: a task went quiet for longer than its heartbeat interval.
    HeartbeatTimeout,
    /// `States.TaskFailed`: a task failed during execution (also: its worker was lost mid-task).
    TaskFailed,
    /// `States.Permissions`: a task lacked the privileges to run.
    Permissions,
    /// `States.BranchFailed`: a branch of a Parallel state failed.
    BranchFailed,
    /// `States.NoChoiceMatched`: no branch of a Choice state matched.
    NoChoiceMatched,
    /// `States.IntrinsicFailure`: an intrinsic function failed.
    IntrinsicFailure,
    /// `States.ExceedToleratedFailureThreshold`: a Map state had more failed items than tolerated.
    ExceedToleratedFailureThreshold,
    /// `States.DataLimitExceeded`: a payload exceeded the size limit. Not matched by `States.ALL`.
    DataLimitExceeded,
    /// `States.Runtime`: the execution cannot continue (for example, a payload could not be
    /// serialised). Not matched by `States.ALL`.
    Runtime,
}

impl States {
    /// Every predefined error, in the order above.
    pub const EVERY: [States; 11] = [
        States::All,
        States::Timeout,
        States::HeartbeatTimeout,
        States::TaskFailed,
        States::Permissions,
        States::BranchFailed,
        States::NoChoiceMatched,
        States::IntrinsicFailure,
        States::ExceedToleratedFailureThreshold,
        States::DataLimitExceeded,
        States::Runtime,
    ];

    /// The error's name, e.g. `States.Timeout`.
    pub const fn name(self) -> &'static str {
        match self {
            States::All => "States.ALL",
            States::Timeout => "States.Timeout",
            States::HeartbeatTimeout => "States.HeartbeatTimeout",
            States::TaskFailed => "States.TaskFailed",
            States::Permissions => "States.Permissions",
            States::BranchFailed => "States.BranchFailed",
            States::NoChoiceMatched => "States.NoChoiceMatched",
            States::IntrinsicFailure => "States.IntrinsicFailure",
            States::ExceedToleratedFailureThreshold => "States.ExceedToleratedFailureThreshold",
            States::DataLimitExceeded => "States.DataLimitExceeded",
            States::Runtime => "States.Runtime",
        }
    }

    /// The predefined error with this name, if there is one.
    pub fn from_name(name: &str) -> Option<States> {
        States::EVERY.into_iter().find(|e| e.name() == name)
    }
}

impl fmt::Display for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<States> for str {
    fn eq(&self, other: &States) -> bool {
        self == other.name()
    }
}

impl PartialEq<States> for &str {
    fn eq(&self, other: &States) -> bool {
        *self == other.name()
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
