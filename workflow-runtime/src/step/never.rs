//! The output of a branch that cannot succeed.

use serde::{Deserialize, Serialize};

/// The output of a Parallel branch or Map iteration that never succeeds: one that only reaches
/// Fail states. It has no values, so no such output is ever made; `workflow!` gives it to such
/// a branch so that the Parallel state's tuple (or the Map state's `Vec`) still has a type.
///
/// A Parallel state with such a branch never succeeds either: its transition is type-checked
/// but never taken. A Map state whose iteration never succeeds outputs an empty
/// `Vec<Never>` when there are no items.
///
/// ```
/// use workflow::prelude::*;
/// # #[derive(Clone, serde::Serialize, serde::Deserialize)] pub struct Order { id: u64 }
///
/// workflow! {
///     pub Refuse: Standard<Order, String> {
///         start Check;
///         Check: parallel {
///             branch { start No; No: fail "Order.Refused"; }
///         } -> Unreachable, catch States::ALL -> Refused;   // the output is `(Never,)`
///         Unreachable: pass |_: (Never,)| -> String { String::new() } -> end;
///         Refused: pass |caught: Caught<Order>| -> String { caught.error } -> end;
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Never {}
