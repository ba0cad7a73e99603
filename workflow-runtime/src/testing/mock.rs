//! Replacing steps in tests: a [`Mock`] runs a closure instead of the step, a [`Script`] plays
//! a list of results, one per attempt. Neither touches the step's code; both count their calls
//! and keep the inputs they received.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::engine::doubles::{Responder, Response, StepFuture};
use crate::step::Step;

/// Calls a mock received: their number and inputs.
#[derive(Default)]
struct CallLog {
    inputs: Mutex<Vec<Value>>,
}

impl CallLog {
    fn record<I: serde::Serialize>(&self, input: &I) {
        let value = serde_json::to_value(input).unwrap_or(Value::Null);
        if let Ok(mut inputs) = self.inputs.lock() {
            inputs.push(value);
        }
    }

    fn count(&self) -> usize {
        self.inputs.lock().map_or(0, |inputs| inputs.len())
    }

    fn inputs(&self) -> Vec<Value> {
        self.inputs
            .lock()
            .map_or_else(|_| Vec::new(), |inputs| inputs.clone())
    }
}

/// Something that can stand in for step `S`: a [`Mock`] or a [`Script`].
pub trait StepMock<S: Step>: Send + Sync + 'static {
    #[doc(hidden)]
    fn handle(&self) -> MockHandle<S>;
}

/// What the runtime keeps of a [`StepMock`].
#[doc(hidden)]
pub struct MockHandle<S: Step>(pub(crate) Arc<dyn Responder<S>>);

type MockFn<S> = dyn Fn(<S as Step>::Input) -> StepFuture<S> + Send + Sync;

/// Runs a closure instead of step `S`. Cloning shares the closure and the call log.
///
/// ```
/// # use workflow::prelude::*;
/// # use workflow::testing::Mock;
/// # #[workflow::step] async fn charge(cents: u64) -> Result<String, std::convert::Infallible> { Ok(String::new()) }
/// let charge = Mock::<charge>::returning(|cents| Ok(format!("paid {cents}")));
/// // ... register it with `HarnessBuilder::mock(charge.clone())`, run, then:
/// assert_eq!(charge.calls(), 0);
/// ```
pub struct Mock<S: Step> {
    run: Arc<MockFn<S>>,
    log: Arc<CallLog>,
}

impl<S: Step> Clone for Mock<S> {
    fn clone(&self) -> Self {
        Mock {
            run: Arc::clone(&self.run),
            log: Arc::clone(&self.log),
        }
    }
}

impl<S: Step> Mock<S> {
    /// A mock running the async closure `run` on each attempt's input.
    pub fn new<F, Fut>(run: F) -> Self
    where
        F: Fn(S::Input) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S::Output, S::Error>> + Send + 'static,
    {
        Mock {
            run: Arc::new(move |input| Box::pin(run(input))),
            log: Arc::default(),
        }
    }

    /// A mock answering each attempt at once with `answer(input)`.
    pub fn returning<F>(answer: F) -> Self
    where
        F: Fn(S::Input) -> Result<S::Output, S::Error> + Send + Sync + 'static,
    {
        Mock::new(move |input| std::future::ready(answer(input)))
    }

    /// How many attempts it answered.
    pub fn calls(&self) -> usize {
        self.log.count()
    }

    /// The inputs it received, as JSON, oldest first.
    pub fn inputs(&self) -> Vec<Value> {
        self.log.inputs()
    }
}

impl<S: Step> fmt::Debug for Mock<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mock")
            .field("step", &S::INFO.name())
            .field("calls", &self.calls())
            .finish()
    }
}

impl<S: Step> Responder<S> for Mock<S> {
    fn respond(&self, input: S::Input) -> Response<S> {
        self.log.record(&input);
        Response::Run((self.run)(input))
    }
}

impl<S: Step> StepMock<S> for Mock<S> {
    fn handle(&self) -> MockHandle<S> {
        MockHandle(Arc::new(self.clone()))
    }
}

/// One entry of a [`Script`].
enum Play<S: Step> {
    Ok(S::Output),
    Err(S::Error),
    Hang,
    Real,
}

/// What a [`Script`] does once its entries are used up.
enum AfterScript {
    /// Fail the attempt with `States.Runtime`, saying the script ran out.
    Refuse,
    /// Run the real step.
    Real,
}

/// Plays a list of results for step `S`, one per attempt, in order: the way to drive a
/// state through its retriers and catchers. Cloning shares the list and the call log.
///
/// ```
/// # use workflow::prelude::*;
/// # use workflow::testing::Script;
/// # #[derive(Debug, thiserror::Error, StepError)]
/// # enum PaymentError { #[error("timed out")] GatewayTimeout }
/// # #[workflow::step] async fn charge(cents: u64) -> Result<String, PaymentError> { Ok(String::new()) }
/// // The gateway times out twice, then takes the payment.
/// let charge = Script::<charge>::new()
///     .err(PaymentError::GatewayTimeout)
///     .err(PaymentError::GatewayTimeout)
///     .ok("receipt-1".to_owned());
/// ```
pub struct Script<S: Step> {
    plays: Arc<Mutex<VecDeque<Play<S>>>>,
    length: usize,
    after: Arc<Mutex<AfterScript>>,
    log: Arc<CallLog>,
}

impl<S: Step> Clone for Script<S> {
    fn clone(&self) -> Self {
        Script {
            plays: Arc::clone(&self.plays),
            length: self.length,
            after: Arc::clone(&self.after),
            log: Arc::clone(&self.log),
        }
    }
}

impl<S: Step> Default for Script<S> {
    fn default() -> Self {
        Script {
            plays: Arc::default(),
            length: 0,
            after: Arc::new(Mutex::new(AfterScript::Refuse)),
            log: Arc::default(),
        }
    }
}

impl<S: Step> Script<S> {
    /// An empty script: add results with [`ok`](Self::ok), [`err`](Self::err),
    /// [`hang`](Self::hang) and [`real`](Self::real).
    pub fn new() -> Self {
        Script::default()
    }

    fn play(mut self, play: Play<S>) -> Self {
        if let Ok(mut plays) = self.plays.lock() {
            plays.push_back(play);
        }
        self.length += 1;
        self
    }

    /// The next attempt succeeds with `output`.
    pub fn ok(self, output: S::Output) -> Self {
        self.play(Play::Ok(output))
    }

    /// The next attempt fails with `error`.
    pub fn err(self, error: S::Error) -> Self {
        self.play(Play::Err(error))
    }

    /// The next attempt never finishes: its state's timeout or heartbeat decides (on virtual
    /// time, at once).
    pub fn hang(self) -> Self {
        self.play(Play::Hang)
    }

    /// The next attempt runs the real step.
    pub fn real(self) -> Self {
        self.play(Play::Real)
    }

    /// Once the script is used up, attempts run the real step (by default they fail with
    /// `States.Runtime`, naming the step and the attempt).
    pub fn then_real(self) -> Self {
        if let Ok(mut after) = self.after.lock() {
            *after = AfterScript::Real;
        }
        self
    }

    /// How many attempts it answered.
    pub fn calls(&self) -> usize {
        self.log.count()
    }

    /// The inputs it received, as JSON, oldest first.
    pub fn inputs(&self) -> Vec<Value> {
        self.log.inputs()
    }

    /// How many of its entries are still to be played.
    pub fn remaining(&self) -> usize {
        self.plays.lock().map_or(0, |plays| plays.len())
    }
}

impl<S: Step> fmt::Debug for Script<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("step", &S::INFO.name())
            .field("calls", &self.calls())
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl<S: Step> Responder<S> for Script<S> {
    fn respond(&self, input: S::Input) -> Response<S> {
        self.log.record(&input);
        let next = self
            .plays
            .lock()
            .ok()
            .and_then(|mut plays| plays.pop_front());
        match next {
            Some(Play::Ok(output)) => Response::Run(Box::pin(std::future::ready(Ok(output)))),
            Some(Play::Err(error)) => Response::Run(Box::pin(std::future::ready(Err(error)))),
            Some(Play::Hang) => Response::Run(Box::pin(std::future::pending())),
            Some(Play::Real) => Response::Real(input),
            None => match self
                .after
                .lock()
                .map(|after| matches!(*after, AfterScript::Real))
            {
                Ok(true) => Response::Real(input),
                _ => Response::Refuse(format!(
                    "the script of step `{}` has {} result(s) and attempt {} asked for one more; \
                     add results or end it with `.then_real()`",
                    S::INFO.name(),
                    self.length,
                    self.calls()
                )),
            },
        }
    }
}

impl<S: Step> StepMock<S> for Script<S> {
    fn handle(&self) -> MockHandle<S> {
        MockHandle(Arc::new(self.clone()))
    }
}
