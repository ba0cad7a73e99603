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

use std::future::Future;

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use serde::Serialize;

use crate::engine::child::run_child_machine;
use crate::engine::counts::RetryCounts;
use crate::engine::flow::not_a;
use crate::engine::settings::{ComputedMapLimits, MapLimits};
use crate::engine::task::wait_until;
use crate::engine::{run_machine, ExecutionContext, Machine};
use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{Caught, States};
use workflow_core::definition::{StateId, StateKind};
use workflow_core::retry::{Catcher, Retrier};

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

/// The Map state's settings: the definition's, or those worked out from its input.
struct MapSettings {
    name: &'static str,
    /// Items run as child executions; the state's history records the map run.
    distributed: bool,
    max_concurrency: usize,
    tolerated_count: Option<u32>,
    tolerated_percentage: Option<f64>,
}

fn map_settings<I>(
    attempts: &Attempts<'_, '_, I>,
    computed: ComputedMapLimits,
) -> Result<MapSettings, ExecutionFailure> {
    let cx = attempts.cx;
    let name = cx.state_name(attempts.state);
    let Some(StateKind::Map(map)) = cx
        .definition()
        .state(attempts.state)
        .map(|state| &state.kind)
    else {
        return Err(not_a(cx, attempts.state, "Map"));
    };
    let limits = MapLimits::of(map, computed)
        .map_err(|why| ExecutionFailure::predefined(Some(name), States::Runtime, why))?;
    Ok(MapSettings {
        name,
        distributed: map.distributed,
        max_concurrency: limits.max_concurrency,
        tolerated_count: limits.tolerated_count,
        tolerated_percentage: limits.tolerated_percentage,
    })
}

/// Runs iteration machine `M` over `items`, at most `max_concurrency` at once; the first
/// failure fails the state, cancelling the iterations still running. The output is in the
/// items' order.
///
/// Iterations that fail at the same instant as the first (several timeouts due together)
/// record their failures too; only the first is the iteration that failed the state
/// (`MapIterationFailed`), the others are aborted with the rest, as Step Functions records it.
pub async fn run_map<'s, M: Machine, I>(
    attempts: &Attempts<'_, 's, I>,
    items: Vec<M::Input>,
    limits: ComputedMapLimits,
) -> Result<Vec<M::Output>, ExecutionFailure> {
    run_map_reading::<M, I>(attempts, std::future::ready(Ok(items)), limits).await
}

/// [`run_map`] of the items `read` gives once the state's map run has started (a
/// distributed Map state's item reader): a failure to read fails the map run.
pub async fn run_map_reading<'s, M: Machine, I>(
    attempts: &Attempts<'_, 's, I>,
    read: impl Future<Output = Result<Vec<M::Input>, ExecutionFailure>>,
    limits: ComputedMapLimits,
) -> Result<Vec<M::Output>, ExecutionFailure> {
    let settings = map_settings(attempts, limits)?;
    let items = async {
        let items = read.await?;
        run_items::<M, I>(attempts, &settings, items).await
    };
    in_map_run(attempts, &settings, items).await
}

/// For a distributed Map state, `items` run as its map run: `MapRunStarted` before them,
/// `MapRunSucceeded` or `MapRunFailed` after.
async fn in_map_run<I, T>(
    attempts: &Attempts<'_, '_, I>,
    settings: &MapSettings,
    items: impl Future<Output = Result<T, ExecutionFailure>>,
) -> Result<T, ExecutionFailure> {
    if !settings.distributed {
        return items.await;
    }
    let (cx, state) = (attempts.cx, Some(attempts.state));
    cx.record(EventType::MapRunStarted, state, |_| {});
    let result = items.await;
    match &result {
        Ok(_) => cx.record(EventType::MapRunSucceeded, state, |_| {}),
        Err(failure) => cx.record(EventType::MapRunFailed, state, |event| {
            event.error = Some(failure.error().to_owned());
            event.cause = Some(failure.cause().to_owned());
        }),
    };
    result
}

/// The iterations of [`run_map`].
async fn run_items<'s, M: Machine, I>(
    attempts: &Attempts<'_, 's, I>,
    settings: &MapSettings,
    items: Vec<M::Input>,
) -> Result<Vec<M::Output>, ExecutionFailure> {
    let total = items.len();
    let mut outputs: Vec<Option<M::Output>> = std::iter::repeat_with(|| None).take(total).collect();
    let mut waiting = items.into_iter().enumerate();
    let mut iterations = FuturesUnordered::new();
    let start = |(index, item)| iteration::<M, I>(attempts, settings, index, item);
    iterations.extend(
        waiting
            .by_ref()
            .take(limit(settings.max_concurrency, total))
            .map(start),
    );
    while let Some((index, lane, result)) = iterations.next().await {
        match result {
            Ok(output) => {
                if let Some(slot) = outputs.get_mut(index) {
                    *slot = Some(output);
                }
                iterations.extend(waiting.next().map(start));
            }
            Err(failure) => {
                // Let the iterations that are ready at this same instant finish, starting
                // no new one.
                while let Some(Some(_)) = iterations.next().now_or_never() {}
                drop(iterations);
                if let Some(lane) = lane {
                    lane.record_failure(
                        EventType::MapIterationFailed,
                        Some(attempts.state),
                        &failure,
                    );
                }
                return Err(failure);
            }
        }
    }
    Ok(outputs.into_iter().flatten().collect())
}

/// The outcome of one item of a Map state that tolerates failures.
pub(crate) type ItemResult<M> = Result<<M as Machine>::Output, Caught<<M as Machine>::Input>>;

/// Like [`run_map`], but tolerating failed items up to the state's tolerated failure count or
/// percentage: each item's result is in the output, a failed one with its input and error.
/// Beyond the threshold the state fails with `States.ExceedToleratedFailureThreshold`.
pub async fn run_map_tolerant<'s, M: Machine, I>(
    attempts: &Attempts<'_, 's, I>,
    items: Vec<M::Input>,
    limits: ComputedMapLimits,
    copy: fn(&M::Input) -> M::Input,
) -> Result<Vec<ItemResult<M>>, ExecutionFailure> {
    run_map_reading_tolerant::<M, I>(attempts, std::future::ready(Ok(items)), limits, copy).await
}

/// [`run_map_tolerant`] of the items `read` gives once the state's map run has started (see
/// [`run_map_reading`]).
pub async fn run_map_reading_tolerant<'s, M: Machine, I>(
    attempts: &Attempts<'_, 's, I>,
    read: impl Future<Output = Result<Vec<M::Input>, ExecutionFailure>>,
    limits: ComputedMapLimits,
    copy: fn(&M::Input) -> M::Input,
) -> Result<Vec<ItemResult<M>>, ExecutionFailure> {
    let settings = map_settings(attempts, limits)?;
    let items = async {
        let items = read.await?;
        run_items_tolerant::<M, I>(attempts, &settings, items, copy).await
    };
    in_map_run(attempts, &settings, items).await
}

/// The iterations of [`run_map_tolerant`].
async fn run_items_tolerant<'s, M: Machine, I>(
    attempts: &Attempts<'_, 's, I>,
    settings: &MapSettings,
    items: Vec<M::Input>,
    copy: fn(&M::Input) -> M::Input,
) -> Result<Vec<ItemResult<M>>, ExecutionFailure> {
    let total = items.len();
    let mut outputs: Vec<Option<ItemResult<M>>> =
        std::iter::repeat_with(|| None).take(total).collect();
    let mut failed = 0usize;
    let mut waiting = items.into_iter().enumerate();
    let mut iterations = FuturesUnordered::new();
    let start = |(index, item): (usize, M::Input)| {
        let kept = copy(&item);
        let iteration = iteration::<M, I>(attempts, settings, index, item);
        async move {
            let (index, lane, result) = iteration.await;
            (index, lane, result.map_err(|failure| (failure, kept)))
        }
    };
    iterations.extend(
        waiting
            .by_ref()
            .take(limit(settings.max_concurrency, total))
            .map(start),
    );
    while let Some((index, lane, result)) = iterations.next().await {
        let result = match result {
            Ok(output) => Ok(output),
            Err((failure, kept)) => {
                if let Some(lane) = lane {
                    lane.record_failure(
                        EventType::MapIterationFailed,
                        Some(attempts.state),
                        &failure,
                    );
                }
                if failure.error() == States::Runtime {
                    return Err(failure);
                }
                failed += 1;
                if exceeds(settings, failed, total) {
                    return Err(ExecutionFailure::predefined(
                        Some(settings.name),
                        States::ExceedToleratedFailureThreshold,
                        format!(
                            "{failed} of {total} items failed, more than tolerated{}",
                            tolerance_text(settings)
                        ),
                    ));
                }
                Err(Caught {
                    input: kept,
                    state: failure.state().unwrap_or(settings.name).to_owned(),
                    error: failure.error().to_owned(),
                    cause: failure.cause().to_owned(),
                })
            }
        };
        if let Some(slot) = outputs.get_mut(index) {
            *slot = Some(result);
        }
        iterations.extend(waiting.next().map(start));
    }
    Ok(outputs.into_iter().flatten().collect())
}

/// One iteration in its own lane: MapIterationStarted, the machine, then
/// MapIterationSucceeded. Whether a failure is the iteration's own (`MapIterationFailed`) or
/// one of many at once, the caller says, in the lane handed back. In a distributed Map
/// state, the iteration is a child execution instead, with no lane in this history.
async fn iteration<'s, M: Machine, I>(
    attempts: &Attempts<'_, 's, I>,
    settings: &MapSettings,
    index: usize,
    item: M::Input,
) -> (
    usize,
    Option<ExecutionContext<'s>>,
    Result<M::Output, ExecutionFailure>,
) {
    if settings.distributed {
        let child = run_child_machine::<M>(attempts.cx, attempts.state, attempts.attempt, item);
        return (index, None, child.await);
    }
    let lane = attempts.cx.lane(&format!("{}[{index}]", settings.name));
    let state = Some(attempts.state);
    let result = match lane.record_payload(
        EventType::MapIterationStarted,
        state,
        Some(&item),
        None::<&()>,
    ) {
        Ok(_) => run_machine::<M>(&lane, item).await,
        Err(failure) => Err(failure),
    };
    let result = result.and_then(|output| {
        lane.record_payload(
            EventType::MapIterationSucceeded,
            state,
            None::<&()>,
            Some(&output),
        )
        .map(|_| output)
    });
    (index, Some(lane), result)
}

/// How many iterations run at once: `max_concurrency`, or all of them for 0.
fn limit(max_concurrency: usize, total: usize) -> usize {
    match max_concurrency {
        0 => total.max(1),
        limit => limit,
    }
}

fn exceeds(settings: &MapSettings, failed: usize, total: usize) -> bool {
    let over_count = settings
        .tolerated_count
        .is_some_and(|count| failed > usize::try_from(count).unwrap_or(usize::MAX));
    let over_share = settings.tolerated_percentage.is_some_and(|percentage| {
        total > 0 && (failed as f64) * 100.0 / (total as f64) > percentage
    });
    let tolerated = settings.tolerated_count.is_some() || settings.tolerated_percentage.is_some();
    !tolerated || over_count || over_share
}

fn tolerance_text(settings: &MapSettings) -> String {
    match (settings.tolerated_count, settings.tolerated_percentage) {
        (Some(count), Some(percentage)) => format!(" ({count} items or {percentage}%)"),
        (Some(count), None) => format!(" ({count} items)"),
        (None, Some(percentage)) => format!(" ({percentage}%)"),
        (None, None) => String::new(),
    }
}
