//! The history recorder of an execution: assigns event ids, keeps the history, makes new
//! events durable on request, and replays a stored history when a durable execution resumes.
//!
//! Resuming works by replay: the workflow runs again from its start, and every event it would
//! record is first matched against the stored history of its lane (the top level, or a
//! Parallel branch or Map iteration). A match is not recorded again; a task whose outcome is
//! stored returns that outcome instead of running (see `task.rs`); timers resume at their
//! stored deadlines. New events begin where the stored history ends. If the workflow records
//! something other than what is stored, the history *diverges* (the workflow changed since):
//! replay stops, nothing more is recorded, and the execution fails at its next durable point.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use crate::clock::Clock;
use crate::execution::{ExecutionFailure, ExecutionId};
use crate::history::{Event, EventType};
use crate::logging::LogSink;
use crate::step::States;
use crate::store::ExecutionEnd;

use super::cancelled::{closings, Closing, SubLanes};
pub(crate) use super::journal::Journal;

/// An event as recorded: new, or found in the stored history.
#[derive(Debug)]
pub(crate) struct Recorded {
    /// The id of the lane's last event once this one is recorded: the event's own id, its
    /// stored twin's, or the last one's before it when nothing was recorded.
    pub(crate) id: u64,
    /// When the event happened (the stored time, for a replayed event); `None` when nothing
    /// was recorded (a lean execution), and the engine takes the clock's time.
    pub(crate) timestamp: Option<SystemTime>,
    /// The stored event, when it was replayed rather than recorded. Boxed: a `Recorded` is
    /// returned for every event, and an `Event` inline made each of them a copy of some 250
    /// bytes, for what only a resuming execution reads.
    pub(crate) replayed: Option<Box<Event>>,
}

impl Recorded {
    /// What recording comes to when nothing is kept (a lean execution): the lane's last
    /// event stays `last`.
    pub(crate) fn nothing(last: u64) -> Self {
        Recorded {
            id: last,
            timestamp: None,
            replayed: None,
        }
    }

    /// The time of a newly recorded event: what events recorded with it, in the same
    /// synchronous stretch of the engine, can share rather than read the clock again.
    pub(crate) fn new_time(&self) -> Option<SystemTime> {
        self.timestamp.filter(|_| self.replayed.is_none())
    }
}

#[derive(Debug, Default)]
struct State {
    /// The whole history: stored events, then new ones.
    events: Vec<Event>,
    /// The index of the first event not yet handed to the journal.
    unsaved: usize,
    /// Stored events not yet replayed, per lane.
    replay: HashMap<Option<String>, VecDeque<Event>>,
    /// Why nothing more may be recorded (replay diverged, the history is full), if so.
    halted: Option<ExecutionFailure>,
    /// How the workflow's definition changed since the execution started, if it did.
    change: Option<String>,
}

impl State {
    /// The next stored event of lane `branch` to replay, if any. A lane replayed to its end
    /// is dropped, and so is the map once every lane is: a long-running execution keeps no
    /// memory for the replay it has done.
    fn replay_next(&mut self, branch: Option<&str>) -> Option<Event> {
        let key = branch.map(str::to_owned);
        let lane = self.replay.get_mut(&key)?;
        let next = lane.pop_front();
        if lane.is_empty() {
            self.replay.remove(&key);
            if self.replay.is_empty() {
                self.replay = HashMap::new();
            }
        }
        next
    }
}

#[derive(Debug)]
pub(crate) struct Recorder {
    state: Mutex<State>,
    journal: Option<Journal>,
    /// Held while a write is under way: the execution's writes go one at a time, in recording
    /// order, so that a write that fails is made again, with whatever was recorded meanwhile,
    /// before anything after it.
    turn: tokio::sync::Mutex<()>,
    /// The most events a history may hold.
    limit: usize,
    /// Where new events are also logged (Express executions).
    sink: Option<SinkTarget>,
    /// Whether nothing is kept (see [`Recorder::lean`]).
    lean: bool,
    /// Whether `halted` is set in the state: what [`Recorder::settled`] asks before every
    /// durable point, answered without taking the lock (an atomic read-modify-write, twice
    /// per lock, was a tenth of an Express execution's time).
    halted: AtomicBool,
}

/// A log sink, with what identifies the execution in it.
#[derive(Debug)]
struct SinkTarget {
    sink: Arc<LogSink>,
    execution: ExecutionId,
    workflow: &'static str,
}

/// Step Functions' limit on the events of one execution's history.
pub(crate) const DEFAULT_HISTORY_LIMIT: usize = 25_000;

impl Recorder {
    /// A recorder that keeps events in memory only, with room for `expected` of them (so the
    /// history is not copied as it grows).
    pub(crate) fn in_memory(limit: usize, expected: usize) -> Self {
        Recorder {
            state: Mutex::new(State {
                events: Vec::with_capacity(expected.min(limit)),
                ..State::default()
            }),
            journal: None,
            turn: tokio::sync::Mutex::new(()),
            limit,
            sink: None,
            lean: false,
            halted: AtomicBool::new(false),
        }
    }

    /// A recorder for a durable execution whose history so far is `stored` (already durable).
    pub(crate) fn durable(journal: Journal, stored: Vec<Event>, limit: usize) -> Self {
        let replay = replay_lanes(&stored);
        Recorder {
            state: Mutex::new(State {
                unsaved: stored.len(),
                events: stored,
                replay,
                halted: None,
                change: None,
            }),
            journal: Some(journal),
            turn: tokio::sync::Mutex::new(()),
            limit,
            sink: None,
            lean: false,
            halted: AtomicBool::new(false),
        }
    }

    /// A recorder that keeps nothing: for executions whose caller wants only the result and
    /// whose events go nowhere. Payload limits still apply.
    pub(crate) fn lean() -> Self {
        Recorder {
            state: Mutex::default(),
            journal: None,
            turn: tokio::sync::Mutex::new(()),
            limit: usize::MAX,
            sink: None,
            lean: true,
            halted: AtomicBool::new(false),
        }
    }

    /// Whether this recorder keeps nothing.
    #[inline]
    pub(crate) fn is_lean(&self) -> bool {
        self.lean
    }

    /// Also logs every new event to `sink`.
    pub(crate) fn log_to(
        &mut self,
        sink: Arc<LogSink>,
        execution: ExecutionId,
        workflow: &'static str,
    ) {
        self.sink = Some(SinkTarget {
            sink,
            execution,
            workflow,
        });
    }

    fn log(&self, event: &Event) {
        if let Some(target) = &self.sink {
            target.sink.emit(&target.execution, target.workflow, event);
        }
    }

    /// Notes that the workflow's definition changed since the execution started, for the
    /// error should its history no longer fit.
    pub(crate) fn changed_definition(self, change: String) -> Self {
        self.lock().change = Some(change);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an event in lane `branch`, whose last event is `last`, or replays its stored
    /// twin. `fill` sets the event's details.
    pub(crate) fn record(
        &self,
        branch: Option<&str>,
        last: &AtomicU64,
        kind: EventType,
        state: Option<&str>,
        timestamp: SystemTime,
        fill: impl FnOnce(&mut Event),
    ) -> Recorded {
        let mut guard = self.lock();
        self.record_locked(&mut guard, branch, last, kind, state, timestamp, fill)
    }

    /// Records two events of state `state` one after the other, under one lock (each lock is
    /// two atomic read-modify-writes, a cost every event paid): `first` at `timestamp`, then
    /// `second` at the same time, or at the clock's when `first` was replayed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_two(
        &self,
        branch: Option<&str>,
        last: &AtomicU64,
        state: Option<&str>,
        timestamp: SystemTime,
        clock: &dyn Clock,
        first: (EventType, impl FnOnce(&mut Event)),
        second: (EventType, impl FnOnce(&mut Event)),
    ) -> (Recorded, Recorded) {
        let mut guard = self.lock();
        let recorded =
            self.record_locked(&mut guard, branch, last, first.0, state, timestamp, first.1);
        let at = recorded.new_time().unwrap_or_else(|| clock.now());
        let then = self.record_locked(&mut guard, branch, last, second.0, state, at, second.1);
        (recorded, then)
    }

    #[allow(clippy::too_many_arguments)]
    fn record_locked(
        &self,
        guard: &mut MutexGuard<'_, State>,
        branch: Option<&str>,
        last: &AtomicU64,
        kind: EventType,
        state: Option<&str>,
        timestamp: SystemTime,
        fill: impl FnOnce(&mut Event),
    ) -> Recorded {
        // Nothing to replay (a new execution, or one past its stored history): no lookup, whose
        // key costs an allocation and a hash for every event.
        let stored = match guard.replay.is_empty() {
            true => None,
            false => guard.replay_next(branch),
        };
        if let Some(stored) = stored {
            if stored.kind == kind && stored.state.as_deref() == state {
                last.store(stored.id, Ordering::Relaxed);
                return Recorded {
                    id: stored.id,
                    timestamp: Some(stored.timestamp),
                    replayed: Some(Box::new(stored)),
                };
            }
            let change = guard.change.clone();
            guard.halted = Some(diverged(&format!(
                "event {} of its history is {} in state `{}`, but the workflow now records {} in state `{}` there",
                stored.id,
                stored.kind,
                stored.state.as_deref().unwrap_or("-"),
                kind,
                state.unwrap_or("-"),
            ), change.as_deref()));
            guard.replay.clear();
            self.halted.store(true, Ordering::Relaxed);
        }
        if guard.halted.is_none() && guard.events.len() >= self.limit {
            // One event is kept for the end: the execution fails with a clear error.
            guard.halted = Some(ExecutionFailure::predefined(
                state,
                States::Runtime,
                format!(
                    "the execution's history reached its limit of {} events",
                    self.limit
                ),
            ));
            self.halted.store(true, Ordering::Relaxed);
        }
        if guard.halted.is_none() {
            let id = guard.events.len() as u64 + 1;
            // A load and a store, not a swap: only this lane writes `last`, and under the
            // lock; a swap is an atomic read-modify-write, costly for each event.
            let previous = last.load(Ordering::Relaxed);
            last.store(id, Ordering::Relaxed);
            if let Some(event) = add_event(&mut guard.events, id, previous, timestamp, kind) {
                fill(event);
                self.log(event);
            }
        }
        Recorded {
            id: last.load(Ordering::Relaxed),
            timestamp: Some(timestamp),
            replayed: None,
        }
    }

    /// Closes, at `at`, everything the cancelled `lanes` left open (see [`closings`]). Their
    /// stored events not yet replayed are dropped: those lanes will not run on.
    pub(crate) fn close_lanes(&self, lanes: &SubLanes, at: SystemTime) {
        let closings = {
            let mut guard = self.lock();
            guard
                .replay
                .retain(|lane, _| !lane.as_deref().is_some_and(|label| lanes.contains(label)));
            closings(&guard.events, lanes)
        };
        let mut last: Option<(String, AtomicU64)> = None;
        for closing in closings {
            let follows = match last.take() {
                Some((lane, id)) if lane == closing.lane => id,
                _ => AtomicU64::new(closing.after),
            };
            let Closing {
                lane, kind, state, ..
            } = closing;
            self.record(Some(&lane), &follows, kind, Some(&state), at, |event| {
                event.state = Some(state.clone());
                event.branch = Some(lane.clone());
            });
            last = Some((lane, follows));
        }
    }

    /// Skips, in the stored history of `lanes`, every event before event `boundary`: the
    /// attempt they belong to ended (it failed), and is not run again.
    pub(crate) fn skip_lanes(&self, lanes: &SubLanes, boundary: u64) {
        let mut guard = self.lock();
        for (lane, stored) in &mut guard.replay {
            if lane.as_deref().is_some_and(|label| lanes.contains(label)) {
                while stored.front().is_some_and(|event| event.id < boundary) {
                    stored.pop_front();
                }
            }
        }
    }

    /// The next stored event of lane `branch` that replay has not reached, if any.
    pub(crate) fn peek(&self, branch: Option<&str>) -> Option<Event> {
        self.lock()
            .replay
            .get(&branch.map(str::to_owned))
            .and_then(|lane| lane.front().cloned())
    }

    /// Whether stored events wait to be replayed in lane `branch`.
    #[cfg(feature = "metrics")]
    pub(crate) fn replays(&self, branch: Option<&str>) -> bool {
        let guard = self.lock();
        // Nothing to replay, the common case: no key made for the lookup.
        !guard.replay.is_empty()
            && guard
                .replay
                .get(&branch.map(str::to_owned))
                .is_some_and(|lane| !lane.is_empty())
    }

    /// When event `id` happened, if the history keeps it.
    pub(crate) fn event_time(&self, id: u64) -> Option<SystemTime> {
        let index = usize::try_from(id.checked_sub(1)?).ok()?;
        self.lock().events.get(index).map(|event| event.timestamp)
    }

    /// The id of the last event of the whole history.
    pub(crate) fn latest(&self) -> u64 {
        self.lock().events.last().map_or(0, |event| event.id)
    }

    /// Makes every event recorded so far durable (with `end`, closing the execution) and waits
    /// for it. Without a journal this does nothing. Fails with `States.Runtime` if replay has
    /// diverged; the execution must not act then. While the store fails, this waits (trying
    /// again); if the write cannot be made, the run halts here (see [`Journal::durably`]).
    /// What [`flush`](Self::flush) without an end comes to when it has nothing to write (an
    /// execution without a journal, or halted): `None` when it must write.
    pub(crate) fn settled(&self) -> Option<Result<(), ExecutionFailure>> {
        if self.lean {
            return Some(Ok(()));
        }
        if self.halted.load(Ordering::Relaxed) {
            if let Some(halted) = &self.lock().halted {
                return Some(Err(halted.clone()));
            }
        }
        self.journal.is_none().then_some(Ok(()))
    }

    pub(crate) async fn flush(&self, end: Option<ExecutionEnd>) -> Result<(), ExecutionFailure> {
        if end.is_none() {
            if let Some(done) = self.settled() {
                return done;
            }
        }
        // With an end, a halted execution still writes it (see `finish`).
        let (false, Some(journal)) = (self.lean, &self.journal) else {
            return Ok(());
        };
        let _turn = self.turn.lock().await;
        let mut done = 0;
        journal
            .durably("saving the history", || {
                // What is not durable yet, including what was recorded while an earlier write
                // was under way (or failed). Borrowed, not copied: the store encodes it
                // before it returns the write.
                let guard = self.lock();
                let events = &guard.events[guard.unsaved..];
                done = guard.events.len();
                if events.is_empty() && end.is_none() {
                    return Box::pin(std::future::ready(Ok(())));
                }
                journal.append(events, end.clone())
            })
            .await;
        let mut guard = self.lock();
        guard.unsaved = guard.unsaved.max(done);
        Ok(())
    }

    /// Records the execution's last event even after a divergence (it is appended after the
    /// stored history), and makes it durable with the execution's end.
    pub(crate) async fn finish(
        &self,
        last: Event,
        end: ExecutionEnd,
    ) -> Result<(), ExecutionFailure> {
        {
            let mut guard = self.lock();
            guard.replay.clear();
            let mut last = last;
            last.id = guard.events.len() as u64 + 1;
            last.previous_event_id = guard.events.last().map_or(0, |event| event.id);
            self.log(&last);
            guard.events.push(last);
        }
        self.flush(Some(end)).await
    }

    /// Parks the execution until `wake_at`, if it may park and waits that long: gives up its
    /// lease, or sets an alarm with its runtime. Whether it parked (then nothing more may
    /// happen in this run of the execution). Everything recorded is durable already.
    pub(crate) async fn park(&self, wake_at: SystemTime, now: SystemTime) -> bool {
        match &self.journal {
            Some(journal) => journal.park(wake_at, now).await,
            None => false,
        }
    }

    /// Where its events are made durable, for a durable execution.
    pub(crate) fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// The whole history.
    pub(crate) fn into_events(self) -> Vec<Event> {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .events
    }
}

/// Adds a new event to `events` and returns it, to be filled in. Made where it is kept: an
/// event is large, and each move of it was a copy; `resize_with` writes it into the vector's
/// spare room, where `push` builds it aside and copies it in. Not generic, unlike the
/// recording that calls it, so its code is compiled once; inlined where it is optimised.
#[inline]
fn add_event(
    events: &mut Vec<Event>,
    id: u64,
    previous: u64,
    timestamp: SystemTime,
    kind: EventType,
) -> Option<&mut Event> {
    let len = events.len();
    events.resize_with(len + 1, || Event::new(id, previous, timestamp, kind));
    events.last_mut()
}

fn diverged(divergence: &str, change: Option<&str>) -> ExecutionFailure {
    let why = change.unwrap_or("was the workflow changed since it started?");
    ExecutionFailure::predefined(
        None,
        States::Runtime,
        format!("the execution cannot resume: {divergence}; {why}"),
    )
}

/// The stored events a resumed execution replays, by lane.
///
/// Everything, except around each redrive (an ExecutionRedriven event): there, in every lane,
/// the state visit that had not finished is dropped (so its state runs again) with everything
/// after it, and so are the execution's end and the redrive itself. Finished states and
/// finished branches and iterations are replayed, so they do not run again.
fn replay_lanes(stored: &[Event]) -> HashMap<Option<String>, VecDeque<Event>> {
    let mut lanes: HashMap<Option<String>, VecDeque<Event>> = HashMap::new();
    for event in stored {
        match event.kind {
            EventType::ExecutionRedriven => {
                for lane in lanes.values_mut() {
                    if let Some(cut) = unfinished_visit(lane) {
                        lane.truncate(cut);
                    }
                    lane.retain(|event| !ends_execution(event.kind));
                }
            }
            _ => lanes
                .entry(event.branch.clone())
                .or_default()
                .push_back(event.clone()),
        }
    }
    lanes
}

/// The position of the last state entered in `lane` and not exited, if any.
fn unfinished_visit(lane: &VecDeque<Event>) -> Option<usize> {
    let entered = lane
        .iter()
        .rposition(|event| exit_of(event.kind).is_some())?;
    let visit = &lane[entered];
    let exit = exit_of(visit.kind);
    let exited = lane
        .iter()
        .skip(entered + 1)
        .any(|event| Some(event.kind) == exit && event.state == visit.state);
    (!exited).then_some(entered)
}

/// The event that closes a state visit opened by `entered`, for the kinds that open one.
fn exit_of(entered: EventType) -> Option<EventType> {
    use EventType::*;
    Some(match entered {
        TaskStateEntered => TaskStateExited,
        ChoiceStateEntered => ChoiceStateExited,
        PassStateEntered => PassStateExited,
        WaitStateEntered => WaitStateExited,
        SucceedStateEntered => SucceedStateExited,
        ParallelStateEntered => ParallelStateExited,
        MapStateEntered => MapStateExited,
        // A Fail state has no exit: it ends the execution where it is.
        FailStateEntered => ExecutionFailed,
        _ => return None,
    })
}

fn ends_execution(kind: EventType) -> bool {
    matches!(
        kind,
        EventType::ExecutionSucceeded
            | EventType::ExecutionFailed
            | EventType::ExecutionTimedOut
            | EventType::ExecutionAborted
    )
}
