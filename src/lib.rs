//! # workflow
//!
//! Step Functions–style orchestration in ordinary Rust: write plain `async fn`s, mark them
//! `#[step]`, and wire them into a state machine with `workflow!`. The wiring is checked when
//! your crate compiles — unknown or unreachable states, states that can never finish, and a
//! step's output that does not fit the next step's input are compile errors at the tokens you
//! wrote — and a runtime executes it with Step Functions' semantics and event history.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use workflow::prelude::*;
//!
//! #[derive(Debug, Serialize, Deserialize)]
//! pub struct Order { id: u64, amount_cents: u64 }
//! #[derive(Debug, Serialize, Deserialize)]
//! pub struct Receipt { order: u64, charged_cents: u64 }
//!
//! #[derive(Debug, thiserror::Error, StepError)]
//! pub enum OrderError {
//!     #[error("an order must cost something")]
//!     Empty,
//! }
//!
//! /// Refuses empty orders.
//! #[step]
//! async fn validate(order: Order) -> Result<Order, OrderError> {
//!     if order.amount_cents == 0 { Err(OrderError::Empty) } else { Ok(order) }
//! }
//!
//! /// Charges the customer.
//! #[step(timeout = "10s")]
//! async fn charge(order: Order) -> Receipt {
//!     Receipt { order: order.id, charged_cents: order.amount_cents }
//! }
//!
//! workflow! {
//!     /// Validates and charges an order.
//!     pub Checkout: Standard<Order, Receipt> {
//!         start Validate;
//!         Validate: task validate -> Charge;
//!         Charge: task charge -> end;
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::builder().register::<Checkout>().build()?;
//!
//! let done = runtime.execute::<Checkout>(Order { id: 7, amount_cents: 1250 }).await?;
//! assert_eq!(done.output().map(|r| r.charged_cents), Some(1250));
//!
//! let failed = runtime.execute::<Checkout>(Order { id: 8, amount_cents: 0 }).await?;
//! let failure = failed.failure().expect("an empty order fails");
//! assert_eq!(failure.state(), Some("Validate"));
//! assert_eq!(failure.error(), "OrderError.Empty");
//! assert!(matches!(failure.downcast_ref::<OrderError>(), Some(OrderError::Empty)));
//! println!("{}", failed.history().table());
//! # Ok(()) }
//! ```
//!
//! ## Steps
//!
//! `#[step]` goes on an `async fn` whose first argument is its *payload* (the state's input) and
//! which returns `Result<Output, Error>` (with an error type deriving [`StepError`]) or a plain
//! `Output` if it cannot fail. After the payload it may take a [`StepContext`] (execution id,
//! state, attempt) and any number of [`Res<T>`] resources registered on the runtime. Options:
//! `name = "..."` (defaults to the function's name), `timeout = "10s"`, `heartbeat = "2s"`.
//! The function stays an ordinary function you can call in unit tests; the macro adds a step
//! type of the same name that `workflow!` refers to.
//!
//! ## Workflows
//!
//! `workflow!` declares a type, its mode (`Standard` or `Express`) with input and output types,
//! a `start` state and the states:
//!
//! | state | meaning |
//! |---|---|
//! | `Name: task step -> Next;` | run `step` on the input, go to `Next` with its output (`-> end` ends the execution) |
//! | `Name: succeed;` | end successfully; the input becomes the workflow's output |
//! | `Name: fail "Error", cause "Why";` | end with an error name and optional cause, either given, computed from the input (`fail \|o: &Order\| o.code.clone()`) or left out |
//!
//! Doc comments on the workflow and on states become the definition's comments.

pub use workflow_macros::{step, test, workflow, StepError};
pub use workflow_runtime::*;

/// The names most workflows need: `use workflow::prelude::*;`.
pub mod prelude {
    pub use workflow_macros::{step, workflow, StepError};
    pub use workflow_runtime::prelude::*;
}

#[doc(hidden)]
pub mod __private {
    pub use workflow_runtime::__private::*;
}
