//! What a catch target receives.

use serde::{Deserialize, Serialize};

/// The input of a state reached through `catch`: the failed state's input and the error.
///
/// The error travels as data (its name and cause) rather than as the step's error type,
/// because a catch target of a Standard workflow may run after a restart, from the stored
/// checkpoint.
///
/// ```
/// use workflow::prelude::*;
/// # #[derive(Clone, serde::Serialize, serde::Deserialize)] struct Order { id: u64 }
///
/// /// Puts an order whose payment failed on hold.
/// #[step]
/// async fn hold(failed: Caught<Order>) -> String {
///     format!("order {} on hold: {} ({})", failed.input.id, failed.error, failed.cause)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caught<I> {
    /// The input of the state that failed.
    pub input: I,
    /// The state that failed.
    pub state: String,
    /// The error name, e.g. `PaymentError.Declined` or `States.Timeout`.
    pub error: String,
    /// The human-readable cause.
    pub cause: String,
}

/// The error alone, in the shape Step Functions gives a catcher's target:
/// `{"Error": "...", "Cause": "..."}`. A catch target whose input is `CaughtError` receives it
/// instead of [`Caught<I>`] (which keeps the failed state's input too, as a `ResultPath` does).
///
/// ```
/// use workflow::prelude::*;
///
/// /// Reports a failure as AWS shapes it.
/// #[step]
/// async fn report(failed: CaughtError) -> String {
///     serde_json::to_string(&failed).unwrap_or_default()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtError {
    /// The error name, e.g. `PaymentError.Declined` or `States.Timeout`.
    #[serde(rename = "Error")]
    pub error: String,
    /// The human-readable cause.
    #[serde(rename = "Cause")]
    pub cause: String,
}

/// What a catch target may take: [`Caught<I>`] of the failed state's input `I`, or
/// [`CaughtError`].
#[diagnostic::on_unimplemented(
    message = "a catch target takes `Caught<{I}>` or `CaughtError`, not `{Self}`",
    label = "this state's input is `{Self}`",
    note = "a catch target receives the failed state's input and error as `Caught<{I}>`, or the error alone in Step Functions' shape as `CaughtError`"
)]
pub trait FromCaught<I> {
    /// The catch target's input, from what was caught.
    fn from_caught(caught: Caught<I>) -> Self;
}

impl<I> FromCaught<I> for Caught<I> {
    fn from_caught(caught: Caught<I>) -> Self {
        caught
    }
}

impl<I> FromCaught<I> for CaughtError {
    fn from_caught(caught: Caught<I>) -> Self {
        CaughtError {
            error: caught.error,
            cause: caught.cause,
        }
    }
}
