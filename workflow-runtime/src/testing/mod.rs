//! Testing workflows in plain `cargo test`: replace steps with [`Mock`]s and [`Script`]s,
//! run on virtual time, test one state on its own, and assert on what happened.
//!
//! ```
//! use workflow::prelude::*;
//! use workflow::testing::{Harness, Script};
//!
//! # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)] struct Order { cents: u64 }
//! #[derive(Debug, thiserror::Error, StepError)]
//! enum PaymentError {
//!     #[error("the gateway timed out")]
//!     GatewayTimeout,
//! }
//!
//! #[workflow::step]
//! async fn charge(order: Order) -> Result<String, PaymentError> {
//!     unimplemented!("talks to the real gateway")
//! }
//!
//! workflow::workflow! {
//!     Pay: Standard<Order, String> {
//!         start Charge;
//!         Charge: task charge -> end,
//!             retry PaymentError::GatewayTimeout { max_attempts: 3, interval: 10m };
//!     }
//! }
//!
//! #[workflow::test]
//! async fn the_gateway_is_retried() {
//!     let charge = Script::<charge>::new()
//!         .err(PaymentError::GatewayTimeout)
//!         .err(PaymentError::GatewayTimeout)
//!         .ok("receipt-1".to_owned());
//!     let harness = Harness::builder().mock(charge.clone()).register::<Pay>().build().unwrap();
//!
//!     let run = harness.run::<Pay>(Order { cents: 500 }).await;
//!
//!     run.expect().succeeded().attempts("Charge", 3);
//!     assert_eq!(run.output().map(String::as_str), Some("receipt-1"));
//!     // 10 minutes, then 20: instantly, on virtual time.
//!     assert_eq!(run.elapsed().as_secs(), 30 * 60);
//!     assert_eq!(charge.calls(), 3);
//! }
//! # fn main() {}
//! ```
//!
//! `#[workflow::test]` is `#[tokio::test]` on a current-thread runtime whose clock is paused:
//! waits, retry delays and timeouts complete at once, exactly. It needs the `testing` feature
//! (`workflow = { version = "...", features = ["testing"] }` in `[dev-dependencies]`), which
//! turns on tokio's `test-util`.

// Assertions and test helpers fail the test by panicking, as `assert!` does.
#![allow(clippy::panic)]

mod diagrams;
mod expect;
pub(crate) mod mock;
mod state;

use std::sync::Arc;

pub use diagrams::assert_diagrams;
pub use expect::Expect;
pub use mock::{Mock, Script, StepMock};
pub use state::{StateResult, StateTest};

pub use crate::engine::StateOutcome;

use crate::clock::VirtualClock;
use crate::execution::{Execution, ExecutionFailure};
use crate::runtime::{BuildError, Runtime, RuntimeBuilder};
use crate::step::Step;
use crate::store::Store;
use crate::workflow::Workflow;

/// A runtime for tests: a [`VirtualClock`], the in-memory store, and mocked steps.
#[derive(Debug, Clone)]
pub struct Harness {
    runtime: Runtime,
    clock: VirtualClock,
}

impl Harness {
    /// Starts configuring a harness over a new [`RuntimeBuilder`]. To test the
    /// configuration a program builds for production, wrap its builder instead:
    /// `HarnessBuilder::from(builder)`.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::from(Runtime::builder())
    }

    /// Runs an execution of `W` to its end, with its full history (Standard and Express alike).
    ///
    /// # Panics
    ///
    /// If `W` is not registered: the test is wrong, and says so.
    #[track_caller]
    pub fn run<W: Workflow>(
        &self,
        input: W::Input,
    ) -> impl std::future::Future<Output = TestRun<W::Output>> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            match self.runtime.execute::<W>(input).await {
                Ok(execution) => TestRun { execution },
                Err(error) => panic!("{caller}: cannot run `{}`: {error}", W::name()),
            }
        }
    }

    /// A test of state `state` of `W` on its own, like Step Functions' TestState.
    ///
    /// ```
    /// # use workflow::testing::{Harness, StateOutcome};
    /// # async fn check<W: workflow::Workflow>(harness: &Harness) {
    /// let charge = harness.state::<W>("Charge").retried(3).run(serde_json::json!({"cents": 500})).await;
    /// assert_eq!(charge.next_state(), Some("PaymentFailed"));
    /// # }
    /// ```
    pub fn state<W: Workflow>(&self, state: &str) -> StateTest<'_, W> {
        StateTest::new(self, state)
    }

    /// The runtime, for everything else (durable starts, stores, recovery).
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The virtual clock every execution of the harness runs on.
    pub fn clock(&self) -> &VirtualClock {
        &self.clock
    }
}

/// Configures a [`Harness`]: a [`RuntimeBuilder`] it wraps, on a virtual clock, and the mocks
/// that replace steps. The most common settings have shortcuts here; every other one is
/// set on the wrapped builder ([`configure`](Self::configure)), or on a builder that is then
/// wrapped.
///
/// ```
/// # use workflow::prelude::*;
/// # use workflow::testing::HarnessBuilder;
/// # use workflow::store::MemoryStore;
/// # use workflow::RuntimeBuilder;
/// // The program's own configuration...
/// fn configured() -> RuntimeBuilder {
///     Runtime::builder().store(MemoryStore::new()).resource(42_u32)
/// }
/// // ... tested as it is, on virtual time.
/// let harness = HarnessBuilder::from(configured()).build().unwrap();
/// ```
#[derive(Debug)]
pub struct HarnessBuilder {
    builder: RuntimeBuilder,
    clock: VirtualClock,
}

impl From<RuntimeBuilder> for HarnessBuilder {
    /// Wraps `builder`, with everything it configures; its clock becomes a virtual one.
    fn from(builder: RuntimeBuilder) -> Self {
        let clock = VirtualClock::new();
        HarnessBuilder {
            builder: builder.clock(clock.clone()),
            clock,
        }
    }
}

impl HarnessBuilder {
    /// Registers workflow `W`.
    pub fn register<W: Workflow>(mut self) -> Self {
        self.builder = self.builder.register::<W>();
        self
    }

    /// Adds a shared resource (see [`RuntimeBuilder::resource`]).
    pub fn resource<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.builder = self.builder.resource(value);
        self
    }

    /// Adds a shared resource that may be a trait object (see [`RuntimeBuilder::resource_arc`]).
    pub fn resource_arc<T: ?Sized + Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.builder = self.builder.resource_arc(value);
        self
    }

    /// Replaces step `S` wherever it runs with `mock` (a [`Mock`] or a [`Script`]): its
    /// code and resources are not used.
    pub fn mock<S: Step>(mut self, mock: impl StepMock<S>) -> Self {
        self.builder = self.builder.mock_in(None, mock.handle().0);
        self
    }

    /// Replaces step `S` in state `state` only (a state's mock wins over the step's).
    pub fn mock_state<S: Step>(mut self, state: &str, mock: impl StepMock<S>) -> Self {
        self.builder = self.builder.mock_in(Some(state), mock.handle().0);
        self
    }

    /// Keeps durable executions in `store` (the in-memory store by default).
    pub fn store(mut self, store: impl Store) -> Self {
        self.builder = self.builder.store(store);
        self
    }

    /// Anything else [`RuntimeBuilder`] offers.
    pub fn configure(mut self, configure: impl FnOnce(RuntimeBuilder) -> RuntimeBuilder) -> Self {
        self.builder = configure(self.builder);
        self
    }

    /// Checks the registrations (a mocked step needs none of its resources) and builds.
    pub fn build(self) -> Result<Harness, BuildError> {
        Ok(Harness {
            runtime: self.builder.build()?,
            clock: self.clock,
        })
    }
}

/// A finished test execution: its [`Execution`] (dereferenced to) and [`expect`](Self::expect).
#[derive(Debug, Clone)]
pub struct TestRun<O> {
    execution: Execution<O>,
}

impl<O> std::ops::Deref for TestRun<O> {
    type Target = Execution<O>;

    fn deref(&self) -> &Execution<O> {
        &self.execution
    }
}

impl<O> TestRun<O> {
    /// Assertions over the execution and its history.
    pub fn expect(&self) -> Expect<'_> {
        Expect::new(self.execution.history(), self.execution.failure())
    }

    /// The execution.
    pub fn into_execution(self) -> Execution<O> {
        self.execution
    }

    /// The failure, panicking with the output if the execution succeeded.
    #[track_caller]
    pub fn unwrap_failure(&self) -> &ExecutionFailure
    where
        O: std::fmt::Debug,
    {
        match self.execution.result() {
            Err(failure) => failure,
            Ok(output) => panic!("expected the execution to fail; it succeeded with {output:?}"),
        }
    }
}
