//! Map states' iterations: the items run through the iteration machine, each in its own lane
//! (or, in a distributed Map state, as a child execution), at most so many at once.
//!
//! Only the entry points are generic over the iteration machine; they hand its run, boxed
//! ([`MachineRun`]), to the code here, which is generic over the payload types only: a
//! workflow's Map states whose iterations take and return the same types share it.

use std::future::Future;

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;

use super::Attempts;
use crate::engine::child::run_child_machine;
use crate::engine::flow::not_a;
use crate::engine::settings::{ComputedMapLimits, MapLimits};
use crate::engine::{machine_run, ExecutionContext, Machine, MachineRun};
use crate::execution::ExecutionFailure;
use crate::history::EventType;
use crate::step::{Caught, Payload, States};
use workflow_core::definition::StateKind;

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
pub fn run_map<'a, 'c, 's, M: Machine, I: Sync>(
    attempts: &'a Attempts<'c, 's, I>,
    items: Vec<M::Input>,
    limits: ComputedMapLimits,
) -> impl Future<Output = Result<Vec<M::Output>, ExecutionFailure>> + use<'a, 'c, 's, M, I> {
    map_items(
        attempts,
        std::future::ready(Ok(items)),
        limits,
        machine_run::<M>(),
    )
}

/// [`run_map`] of the items `read` gives once the state's map run has started (a
/// distributed Map state's item reader): a failure to read fails the map run.
pub fn run_map_reading<'a, 'c, 's, M: Machine, I: Sync>(
    attempts: &'a Attempts<'c, 's, I>,
    read: impl Future<Output = Result<Vec<M::Input>, ExecutionFailure>> + 'a,
    limits: ComputedMapLimits,
) -> impl Future<Output = Result<Vec<M::Output>, ExecutionFailure>> + 'a {
    map_items(attempts, read, limits, machine_run::<M>())
}

/// [`run_map_reading`] through `run`, the iteration machine's.
async fn map_items<In: Payload, Out: Payload, I: Sync>(
    attempts: &Attempts<'_, '_, I>,
    read: impl Future<Output = Result<Vec<In>, ExecutionFailure>>,
    limits: ComputedMapLimits,
    run: MachineRun<In, Out>,
) -> Result<Vec<Out>, ExecutionFailure> {
    let settings = map_settings(attempts, limits)?;
    let items = async {
        let items = read.await?;
        run_items(attempts, &settings, items, run).await
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
async fn run_items<In: Payload, Out: Payload, I>(
    attempts: &Attempts<'_, '_, I>,
    settings: &MapSettings,
    items: Vec<In>,
    run: MachineRun<In, Out>,
) -> Result<Vec<Out>, ExecutionFailure> {
    let total = items.len();
    let mut outputs: Vec<Option<Out>> = std::iter::repeat_with(|| None).take(total).collect();
    let mut waiting = items.into_iter().enumerate();
    let mut iterations = FuturesUnordered::new();
    let start = |(index, item)| iteration(attempts, settings, index, item, run);
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
pub fn run_map_tolerant<'a, 'c, 's, M: Machine, I: Sync>(
    attempts: &'a Attempts<'c, 's, I>,
    items: Vec<M::Input>,
    limits: ComputedMapLimits,
    copy: fn(&M::Input) -> M::Input,
) -> impl Future<Output = Result<Vec<ItemResult<M>>, ExecutionFailure>> + use<'a, 'c, 's, M, I> {
    map_items_tolerant(
        attempts,
        std::future::ready(Ok(items)),
        limits,
        copy,
        machine_run::<M>(),
    )
}

/// [`run_map_tolerant`] of the items `read` gives once the state's map run has started (see
/// [`run_map_reading`]).
pub fn run_map_reading_tolerant<'a, 'c, 's, M: Machine, I: Sync>(
    attempts: &'a Attempts<'c, 's, I>,
    read: impl Future<Output = Result<Vec<M::Input>, ExecutionFailure>> + 'a,
    limits: ComputedMapLimits,
    copy: fn(&M::Input) -> M::Input,
) -> impl Future<Output = Result<Vec<ItemResult<M>>, ExecutionFailure>> + 'a {
    map_items_tolerant(attempts, read, limits, copy, machine_run::<M>())
}

/// [`run_map_reading_tolerant`] through `run`, the iteration machine's.
async fn map_items_tolerant<In: Payload, Out: Payload, I: Sync>(
    attempts: &Attempts<'_, '_, I>,
    read: impl Future<Output = Result<Vec<In>, ExecutionFailure>>,
    limits: ComputedMapLimits,
    copy: fn(&In) -> In,
    run: MachineRun<In, Out>,
) -> Result<Vec<Result<Out, Caught<In>>>, ExecutionFailure> {
    let settings = map_settings(attempts, limits)?;
    let items = async {
        let items = read.await?;
        run_items_tolerant(attempts, &settings, items, copy, run).await
    };
    in_map_run(attempts, &settings, items).await
}

/// The iterations of [`run_map_tolerant`].
async fn run_items_tolerant<In: Payload, Out: Payload, I>(
    attempts: &Attempts<'_, '_, I>,
    settings: &MapSettings,
    items: Vec<In>,
    copy: fn(&In) -> In,
    run: MachineRun<In, Out>,
) -> Result<Vec<Result<Out, Caught<In>>>, ExecutionFailure> {
    let total = items.len();
    let mut outputs: Vec<Option<Result<Out, Caught<In>>>> =
        std::iter::repeat_with(|| None).take(total).collect();
    let mut failed = 0usize;
    let mut waiting = items.into_iter().enumerate();
    let mut iterations = FuturesUnordered::new();
    let start = |(index, item): (usize, In)| {
        let kept = copy(&item);
        let iteration = iteration(attempts, settings, index, item, run);
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
async fn iteration<'s, In: Payload, Out: Payload, I>(
    attempts: &Attempts<'_, 's, I>,
    settings: &MapSettings,
    index: usize,
    item: In,
    run: MachineRun<In, Out>,
) -> (
    usize,
    Option<ExecutionContext<'s>>,
    Result<Out, ExecutionFailure>,
) {
    if settings.distributed {
        let child = run_child_machine(attempts.cx, attempts.state, attempts.attempt, item, run);
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
        Ok(_) => run(&lane, item).await,
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
