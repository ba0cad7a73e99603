//! Stand-ins for steps, as tests register them (`testing::HarnessBuilder::mock`): the
//! interface the engine asks before calling a step, which the `testing` module implements
//! with its mocks and scripts. Only with the `testing` feature.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::step::Step;

/// A boxed future of a step's result.
pub(crate) type StepFuture<S> =
    Pin<Box<dyn Future<Output = Result<<S as Step>::Output, <S as Step>::Error>> + Send>>;

/// What a mock does with one attempt.
pub(crate) enum Response<S: Step> {
    /// Finish the attempt with this future's result.
    Run(StepFuture<S>),
    /// Run the real step on this input.
    Real(S::Input),
    /// Fail the attempt with `States.Runtime`: the mock has nothing for it.
    Refuse(String),
}

/// The part of a mock the engine calls.
pub(crate) trait Responder<S: Step>: Send + Sync {
    fn respond(&self, input: S::Input) -> Response<S>;
}

/// The mocks of a runtime: by step type, optionally for one state only.
#[derive(Default)]
pub(crate) struct Mocks {
    by_step: HashMap<(TypeId, Option<String>), Box<dyn Any + Send + Sync>>,
}

impl Mocks {
    pub(crate) fn insert<S: Step>(&mut self, state: Option<&str>, mock: Arc<dyn Responder<S>>) {
        self.by_step.insert(
            (TypeId::of::<S>(), state.map(str::to_owned)),
            Box::new(mock),
        );
    }

    /// The mock of step `S` in `state`: the state's own, else the step's.
    pub(crate) fn get<S: Step>(&self, state: &str) -> Option<Arc<dyn Responder<S>>> {
        let find = |key: &(TypeId, Option<String>)| {
            self.by_step
                .get(key)
                .and_then(|mock| mock.downcast_ref::<Arc<dyn Responder<S>>>())
                .cloned()
        };
        find(&(TypeId::of::<S>(), Some(state.to_owned())))
            .or_else(|| find(&(TypeId::of::<S>(), None)))
    }

    /// Whether step type `step` is mocked (in any state).
    pub(crate) fn covers(&self, step: TypeId) -> bool {
        self.by_step.keys().any(|(id, _)| *id == step)
    }
}

impl fmt::Debug for Mocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mocks")
            .field("count", &self.by_step.len())
            .finish()
    }
}
