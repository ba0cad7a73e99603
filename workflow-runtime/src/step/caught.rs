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
