//! Procedural macros of the [`workflow`](https://docs.rs/workflow) crate.
//!
//! Use them through `workflow` (`use workflow::prelude::*;`), which documents them: the code
//! they generate refers to `::workflow::__private_v0_1` (see `private.rs`).
//!
//! Every macro runs in three stages, each in its own module: *parse* (tokens to a typed view
//! that keeps the user's spans), *validate* (every check, errors accumulated, not stopping at
//! the first), and *expand* (tokens out).

mod diagnostics;
mod docs;
mod duration;
mod names;
mod private;
mod step;
mod step_error;
mod test;
mod workflow;

use proc_macro::TokenStream;

/// Turns an `async fn` into a workflow step. See the `workflow` crate's documentation.
#[proc_macro_attribute]
pub fn step(attr: TokenStream, item: TokenStream) -> TokenStream {
    step::step(attr.into(), item.into()).into()
}

/// Declares a workflow: a typed state machine over steps.
///
/// # Reference
///
/// ```text
/// /// Doc comments become the definition's Comment.
/// pub Name: Standard<Input, Output> {            // or Express<Input, Output>
///     timeout 1h;                                // optional: the longest an execution may run
///     start First;                               // the start state, once per scope
///     /// Doc comments on a state become its Comment.
///     First: <kind> ...;
/// }
/// ```
///
/// The state kinds:
///
/// | state | meaning |
/// |---|---|
/// | `S: task step -> Next, options;` | runs `step` (a `#[step]` fn or another workflow type) on the input; `-> end` ends the scope with its output |
/// | `S: choice { pred => A, pred => B, _ => C };` | goes to the first target whose predicate (a closure or `fn(&T) -> bool`) holds, else to the default `_`; without a default, fails with `States.NoChoiceMatched` |
/// | `S: wait 30s -> Next;` / `S: wait for f -> Next;` / `S: wait until f -> Next;` | waits a fixed time, the `Duration` a function of the input returns, or until the `SystemTime` it returns |
/// | `S: pass -> Next;` / `S: pass f -> Next;` | hands its input on, unchanged or through a function |
/// | `S: parallel { branch { ... } ... } -> Next, options;` | runs one or more branches on the input; outputs the tuple of their outputs (`(T,)` for one branch) |
/// | `S: map sel { ... } -> Next, options;` | runs the body for each item `sel` selects; outputs the `Vec` of their outputs |
/// | `S: succeed;` | ends the scope successfully with its input |
/// | `S: fail "Error", cause "Why";` | ends the scope with an error; each part is optional (`fail cause "Why";`, `fail;`) |
/// | `S: fail \|o: &Order\| o.code.clone(), cause reason;` | the error name or cause worked out from the input by a closure or `fn(&T) -> impl Into<String>` |
///
/// A branch body (`branch { ... }`, a Map state's `{ ... }`) is a scope of its own: a `start`
/// and states whose transitions stay inside it; `-> end` ends the branch.
///
/// Types flow along transitions: a task takes its step's input, other states what leads into
/// them or what their closure's parameter says (`|order: &Order| ...`). A branch's output is
/// what reaches its `end`; a branch that can only fail outputs `Never` (no value), and a
/// Parallel state with one never succeeds, so its transition type-checks into any state. A
/// Map iteration takes the items: the type its first state takes, or the selector's annotated
/// return type (`map |order: &Order| -> Vec<Line> { order.lines.clone() } { ... }`).
///
/// Options of task, parallel and map states, after the transition, separated by commas:
///
/// - `retry E::A | States::Timeout { max_attempts: 3, interval: 1s, backoff: 2.0,
///   max_delay: 30s, jitter: full }`: a retrier (all settings optional);
/// - `catch E::B -> Fallback`: a catcher; `Fallback` receives `Caught<input>` (the failed
///   state's input, its name, the error and cause), or `CaughtError` if that is what it takes
///   (the error alone, in Step Functions' shape `{"Error", "Cause"}`);
/// - errors are `Type::Variant`, `Type::*` (every variant), a struct error type,
///   `States::Name` (predefined: `ALL`, `Timeout`, `HeartbeatTimeout`, `TaskFailed`, ...), or
///   a name in a string (`"Child.Failed"`, for nested workflows);
/// - a name in a string is checked against what the state can raise, at compile time for a
///   step, when the runtime is built otherwise; `retry unchecked "Upstream.Busy"` and
///   `catch unchecked "Upstream.Busy" -> State` take the clause's names as written, unchecked
///   (only strings may follow `unchecked`);
/// - task only: `timeout 10s`, `heartbeat 2s`;
/// - map only: `max_concurrency 4`, `tolerate 3` or `tolerate 10%`;
/// - settings from the input (Step Functions' `*Path` fields): each of these four also takes
///   a closure or `fn(&T)` over the state's input, called when the state is entered:
///   `timeout |job: &Job| job.limit` and `heartbeat ...` return a `Duration`;
///   `max_concurrency |batch: &Batch| batch.at_once` and `tolerate ...` a `u32`;
///   `tolerate |batch: &Batch| batch.share %` an `f64` percentage. A value out of range (a
///   zero timer, a heartbeat not shorter than the timeout, a share outside 0–100) fails the
///   state with `States.Runtime`, which no retrier or catcher handles.
///
/// Every mistake the macro can see (unknown or unreachable states, a type that does not flow,
/// an error a state cannot raise, ...) is a compile error at the tokens written; see the
/// `workflow` crate's documentation for the list and for the runtime semantics.
#[proc_macro]
pub fn workflow(input: TokenStream) -> TokenStream {
    workflow::workflow(input.into()).into()
}

/// Gives every variant of an error enum a Step Functions–style name (`Enum.Variant`). See the
/// `workflow` crate's documentation.
#[proc_macro_derive(StepError, attributes(step_error))]
pub fn derive_step_error(input: TokenStream) -> TokenStream {
    step_error::derive(input.into()).into()
}

/// An async test on virtual time: `#[tokio::test]` on a current-thread runtime whose clock is
/// paused, so waits, retry delays and timeouts complete at once. Needs the `testing` feature.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    test::test(attr.into(), item.into()).into()
}
