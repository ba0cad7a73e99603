//! Parallel and Map states: sub-machines run concurrently in lanes of the execution, under
//! the state's own retriers and catchers.
//!
//! Generated code drives an attempt loop: [`Attempts::enter`] records the state's entry; each
//! attempt runs the branches (Parallel, joined by generated code so each branch keeps its own
//! types) or the items ([`run_map`]); [`Attempts::settle`] records the outcome and says whether
//! to retry, go on, or hand over to a catcher.
//!
//! As in Step Functions, `ParallelStateFailed` / `MapStateFailed` is written once, when the
//! state finally fails; a failed attempt that is retried is followed only by the next
//! attempt's `*StateStarted`. That event is recorded when the attempt fails, carrying the
//! failure and the retry delay, so that a resumed execution waits out the same delay (drawn
//! once, jitter included) from the same moment.

use serde::Serialize;

use crate::engine::counts::RetryCounts;
use crate::engine::flow::not_a;
use crate::engine::task::wait_until;
use crate::engine::ExecutionContext;
use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{Caught, States};
use workflow_core::definition::{StateId, StateKind};
use workflow_core::retry::{Catcher, Retrier};

mod map;

pub use map::{run_map, run_map_reading, run_map_reading_tolerant, run_map_tolerant};

/// Whether a composite state is a Parallel or a Map state, with its event names.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Parallel,
    Map,
}

impl Kind {
    fn entered(self) -> EventType {
        match self {
            Kind::Parallel => EventType::ParallelStateEntered,
            Kind::Map => EventType::MapStateEntered,
        }
    }

    fn started(self) -> EventType {
        match self {
            Kind::Parallel => EventType::ParallelStateStarted,
            Kind::Map => EventType::MapStateStarted,
        }
    }

    /// What records a success before the exit: Step Functions writes `MapStateSucceeded`,
    /// but no `ParallelStateSucceeded` (a Parallel state goes straight to its exit).
    fn succeeded(self) -> Option<EventType> {
        match self {
            Kind::Parallel => None,
            Kind::Map => Some(EventType::MapStateSucceeded),
        }
    }

    fn failed(self) -> EventType {
        match self {
            Kind::Parallel => EventType::ParallelStateFailed,
            Kind::Map => EventType::MapStateFailed,
        }
    }

    fn exited(self) -> EventType {
        match self {
            Kind::Parallel => EventType::ParallelStateExited,
            Kind::Map => EventType::MapStateExited,
        }
    }
}

/// The attempts of one visit to a Parallel or Map state.
#[derive(Debug)]
pub struct Attempts<'c, 's, I> {
    cx: &'c ExecutionContext<'s>,
    state: StateId,
    kind: Kind,
    retry: &'static [Retrier],
    catch: &'static [Catcher],
    counts: RetryCounts,
    input: I,
    attempt: u32,
    /// Whether the next attempt's start is recorded already (with the retry delay before it),
    /// and whether that record was replayed.
    next_started: Option<bool>,
    /// Whether the current attempt's failure was read from the stored history rather than
    /// run (see [`start`](Self::start)).
    failure_replayed: bool,
    /// A Map state's number of items (the same for every attempt: the input is).
    length: Option<usize>,
}

/// How an attempt of a Parallel or Map state ended.
#[derive(Debug)]
pub enum Settled<'c, 's, O, I, C = Caught<I>> {
    /// A retrier applies: run another attempt (its delay has passed).
    Retry(Attempts<'c, 's, I>),
    /// The state succeeded with this output.
    Succeeded(O),
    /// The state failed and the catcher with this index took over, with this (the failed
    /// state's input and error, unless [`Attempts::settle_with`] made something else of it).
    Caught(usize, C),
    /// The state failed and no catcher applies.
    Failed(ExecutionFailure),
}

impl<'c, 's, I: Serialize> Attempts<'c, 's, I> {
    /// Enters the Parallel or Map state `state` with `input`.
    pub fn enter(
        cx: &'c ExecutionContext<'s>,
        state: StateId,
        input: I,
    ) -> Result<Self, ExecutionFailure> {
        Self::enter_as(cx, state, None::<&()>, input)
    }

    /// Enters the Parallel or Map state `state` whose attempts work on `input`, recording
    /// `entry` as what it was entered with (its raw input, for a workflow defined at run time
    /// that selects its input once it is entered); `input` itself without an `entry`.
    pub fn enter_as<E: Serialize + ?Sized>(
        cx: &'c ExecutionContext<'s>,
        state: StateId,
        entry: Option<&E>,
        input: I,
    ) -> Result<Self, ExecutionFailure> {
        let (kind, retry, catch): (Kind, &'static [Retrier], &'static [Catcher]) =
            match cx.definition().state(state).map(|state| &state.kind) {
                Some(StateKind::Parallel(parallel)) => {
                    (Kind::Parallel, &parallel.retry, &parallel.catch)
                }
                Some(StateKind::Map(map)) => (Kind::Map, &map.retry, &map.catch),
                _ => return Err(not_a(cx, state, "Parallel or Map")),
            };
        match entry {
            Some(entry) => cx.record_payload(kind.entered(), Some(state), Some(entry), None::<&()>),
            None => cx.record_payload(kind.entered(), Some(state), Some(&input), None::<&()>),
        }?;
        Ok(Attempts {
            cx,
            state,
            kind,
            retry,
            catch,
            counts: RetryCounts::starting_at(cx.shared.retries_done),
            input,
            attempt: 0,
            next_started: None,
            failure_replayed: false,
            length: None,
        })
    }

    /// Starts an attempt: ParallelStateStarted, or MapStateStarted with its `length` items
    /// (recorded already for a retry, see [`settle`](Self::settle)).
    ///
    /// When a resumed execution replays an attempt whose failure is stored, that failure is
    /// returned: the attempt is not run again (its branches were cancelled, and their stored
    /// events are skipped), and it goes to [`settle`](Self::settle) as it did the first time.
    pub fn start(&mut self, length: Option<usize>) -> Option<ExecutionFailure> {
        self.attempt += 1;
        self.length = length;
        let replayed = match self.next_started.take() {
            Some(replayed) => replayed,
            None => {
                let attempt = self.attempt;
                self.cx
                    .record(self.kind.started(), Some(self.state), |event| {
                        event.attempt = Some(attempt);
                        event.length = length;
                    })
                    .replayed
                    .is_some()
            }
        };
        if !replayed {
            return None;
        }
        let stored = self.cx.replay_next()?;
        let failed = stored.kind == self.kind.failed()
            || (stored.kind == self.kind.started() && stored.retry_in.is_some());
        if !failed {
            return None;
        }
        self.cx
            .shared
            .recorder
            .skip_lanes(&self.cx.sub_lanes(self.state), stored.id);
        self.failure_replayed = true;
        Some(ExecutionFailure::new(
            Some(self.cx.state_name(self.state)),
            stored.error.unwrap_or_default(),
            stored.cause.unwrap_or_default(),
        ))
    }

    /// The state's input, which every attempt works on.
    pub fn input(&self) -> &I {
        &self.input
    }

    /// The lane of branch `index` of a Parallel state.
    pub fn branch(&self, index: usize) -> ExecutionContext<'s> {
        self.cx
            .lane(&format!("{}/{index}", self.cx.state_name(self.state)))
    }

    /// Records how the attempt ended and decides what happens next.
    pub async fn settle<O: Serialize>(
        self,
        result: Result<O, ExecutionFailure>,
    ) -> Settled<'c, 's, O, I> {
        self.settle_with(result, Ok, |_, caught| Ok(caught)).await
    }

    /// [`settle`](Self::settle), for a workflow defined at run time: `finish` makes the
    /// state's output of its branches' results, `on_caught` what a catcher's target gets of
    /// the failure; the state's exit records what they make (their failure fails the state).
    pub async fn settle_with<O: Serialize, F: Serialize, C: Serialize>(
        mut self,
        result: Result<O, ExecutionFailure>,
        finish: impl FnOnce(O) -> Result<F, ExecutionFailure>,
        on_caught: impl FnOnce(usize, Caught<I>) -> Result<C, ExecutionFailure>,
    ) -> Settled<'c, 's, F, I, C> {
        let cx = self.cx;
        let state = Some(self.state);
        cx.rejoin();
        let failure = match result {
            Ok(output) => {
                let recorded = self
                    .kind
                    .succeeded()
                    .map_or(Ok(()), |succeeded| {
                        cx.record_payload(succeeded, state, None::<&()>, Some(&output))
                            .map(|_| ())
                    })
                    .and_then(|()| finish(output))
                    .and_then(|output| {
                        cx.record_payload(self.kind.exited(), state, None::<&()>, Some(&output))
                            .map(|_| output)
                    });
                return match recorded {
                    Ok(output) => Settled::Succeeded(output),
                    Err(failure) => Settled::Failed(failure),
                };
            }
            Err(failure) => failure,
        };
        if !std::mem::take(&mut self.failure_replayed) {
            // What the failure cancelled is closed in the history, as Step Functions does.
            cx.close_lanes(self.state);
        }
        let error = failure.error();
        // `States.Runtime` is never retried or caught.
        let retriable = error != States::Runtime;
        let delay = retriable
            .then(|| self.counts.next_delay(self.retry, error))
            .flatten();
        if let Some(delay) = delay {
            // The retry: the next attempt's start, with what failed this one and the delay.
            let (attempt, length) = (self.attempt + 1, self.length);
            let recorded = cx.record(self.kind.started(), state, |event| {
                event.attempt = Some(attempt);
                event.length = length;
                event.error = Some(failure.error().to_owned());
                event.cause = Some(failure.cause().to_owned());
                event.retry_in = Some(delay);
            });
            if let Err(failure) = cx.flush().await {
                return Settled::Failed(failure);
            }
            // A replayed start keeps the delay that was drawn (and stored) the first time.
            let delay = recorded
                .replayed
                .as_ref()
                .and_then(|stored| stored.retry_in)
                .unwrap_or(delay);
            wait_until(
                cx,
                recorded.timestamp.unwrap_or_else(|| cx.clock().now()) + delay,
            )
            .await;
            self.next_started = Some(recorded.replayed.is_some());
            return Settled::Retry(self);
        }
        cx.record(self.kind.failed(), state, |event| {
            event.error = Some(failure.error().to_owned());
            event.cause = Some(failure.cause().to_owned());
        });
        if let Err(failure) = cx.flush().await {
            return Settled::Failed(failure);
        }
        let catcher = self.catch.iter().position(|catcher| catcher.matches(error));
        match catcher.filter(|_| retriable) {
            Some(index) => {
                let caught = Caught {
                    input: self.input,
                    state: cx.state_name(self.state).to_owned(),
                    error: failure.error().to_owned(),
                    cause: failure.cause().to_owned(),
                };
                let handed = match on_caught(index, caught) {
                    Ok(handed) => handed,
                    Err(failure) => return Settled::Failed(failure),
                };
                match cx.record_payload(self.kind.exited(), state, None::<&()>, Some(&handed)) {
                    Ok(_) => Settled::Caught(index, handed),
                    Err(failure) => Settled::Failed(failure),
                }
            }
            None => Settled::Failed(failure),
        }
    }
}
