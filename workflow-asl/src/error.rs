//! What goes wrong in a state's data flow at run time, named as Step Functions names it.

/// An error of a state's data flow (a path that selects nothing, an intrinsic function given
/// the wrong arguments...), with the error name Step Functions raises for it. Retriers and
/// catchers match it by that name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct DataError {
    /// The error's name: `States.Runtime`, `States.IntrinsicFailure`...
    pub error: &'static str,
    /// What happened, as Step Functions words it (without the state's name, which the runner
    /// puts in front).
    pub cause: String,
}

/// The error names of [`DataError`].
pub(crate) mod names {
    pub(crate) const RUNTIME: &str = "States.Runtime";
    pub(crate) const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
}

impl DataError {
    /// A `States.Runtime` error.
    pub(crate) fn runtime(cause: impl Into<String>) -> Self {
        DataError {
            error: names::RUNTIME,
            cause: cause.into(),
        }
    }

    /// A `States.IntrinsicFailure` error.
    pub(crate) fn intrinsic(cause: impl Into<String>) -> Self {
        DataError {
            error: names::INTRINSIC_FAILURE,
            cause: cause.into(),
        }
    }
}
