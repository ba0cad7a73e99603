//! The work a failed Parallel or Map attempt cancels, found in the history so it can be closed
//! there as Step Functions closes it.
//!
//! When a branch or iteration fails, the state's other branches and iterations are dropped
//! mid-way. Step Functions then writes, for every one still running, `MapIterationAborted` for
//! the iteration and `TaskStateAborted` (or `WaitStateAborted`, `ParallelStateAborted`,
//! `MapStateAborted`) for the state it was in — also for the task whose failure ended the
//! branch, which was never exited. Lanes are taken in the order they started, so a nested
//! Parallel or Map is closed before its own branches.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::history::{Event, EventType};

/// The lanes (branches and iterations, nested ones too) of one Parallel or Map state.
#[derive(Debug)]
pub(crate) struct SubLanes {
    /// Parallel branches: `State/0`, `State/1`, … (below the parent lane's label).
    branches: String,
    /// Map iterations: `State[0]`, `State[1]`, ….
    iterations: String,
}

impl SubLanes {
    /// The lanes of state `state` entered in lane `parent`.
    pub(crate) fn of(parent: Option<&str>, state: &str) -> Self {
        let base = match parent {
            Some(parent) => format!("{parent}/{state}"),
            None => state.to_owned(),
        };
        SubLanes {
            branches: format!("{base}/"),
            iterations: format!("{base}["),
        }
    }

    /// Whether lane `label` is one of them.
    pub(crate) fn contains(&self, label: &str) -> bool {
        label.starts_with(&self.branches) || label.starts_with(&self.iterations)
    }
}

/// An event that closes what a cancelled lane left open.
#[derive(Debug)]
pub(crate) struct Closing {
    pub(crate) lane: String,
    pub(crate) kind: EventType,
    pub(crate) state: Cow<'static, str>,
    /// The lane's last event before its closings.
    pub(crate) after: u64,
}

/// What one lane has open, as far as its events tell.
#[derive(Debug, Default)]
struct Lane {
    first: u64,
    last: u64,
    /// The Map state whose iteration this lane is, while the iteration runs.
    iteration: Option<Cow<'static, str>>,
    /// The state the lane is in, with the event that aborts it.
    visit: Option<(EventType, Cow<'static, str>)>,
}

/// The events that close everything still open in `lanes`, in the order the lanes started.
pub(crate) fn closings(events: &[Event], lanes: &SubLanes) -> Vec<Closing> {
    let mut open: HashMap<&str, Lane> = HashMap::new();
    for event in events {
        let Some(label) = event
            .branch
            .as_deref()
            .filter(|label| lanes.contains(label))
        else {
            continue;
        };
        let lane = open.entry(label).or_insert_with(|| Lane {
            first: event.id,
            ..Lane::default()
        });
        lane.last = event.id;
        let state = || event.state.clone().unwrap_or_default();
        use EventType::*;
        match event.kind {
            MapIterationStarted => lane.iteration = Some(state()),
            MapIterationSucceeded | MapIterationFailed | MapIterationAborted => {
                lane.iteration = None;
            }
            TaskStateEntered => lane.visit = Some((TaskStateAborted, state())),
            WaitStateEntered => lane.visit = Some((WaitStateAborted, state())),
            ParallelStateEntered => lane.visit = Some((ParallelStateAborted, state())),
            MapStateEntered => lane.visit = Some((MapStateAborted, state())),
            // Entered and left in one go, or never left (a Fail state ends its lane).
            ChoiceStateEntered | PassStateEntered | SucceedStateEntered | FailStateEntered
            | TaskStateExited | ChoiceStateExited | PassStateExited | WaitStateExited
            | SucceedStateExited | ParallelStateExited | MapStateExited | TaskStateAborted
            | WaitStateAborted | ParallelStateAborted | MapStateAborted => lane.visit = None,
            _ => {}
        }
    }
    let mut open: Vec<(&str, Lane)> = open.into_iter().collect();
    open.sort_by_key(|(_, lane)| lane.first);
    let mut closings = Vec::new();
    for (label, lane) in open {
        let opened = lane
            .iteration
            .map(|state| (EventType::MapIterationAborted, state))
            .into_iter()
            .chain(lane.visit);
        for (kind, state) in opened {
            closings.push(Closing {
                lane: label.to_owned(),
                kind,
                state,
                after: lane.last,
            });
        }
    }
    closings
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn event(id: u64, kind: EventType, state: &'static str, lane: &str) -> Event {
        let mut event = Event::new(id, id - 1, SystemTime::UNIX_EPOCH, kind);
        event.state = Some(Cow::Borrowed(state));
        event.branch = Some(lane.to_owned());
        event
    }

    #[test]
    fn open_iterations_and_states_close_in_the_order_their_lanes_started() {
        use EventType::*;
        let events = vec![
            event(1, MapIterationStarted, "Each", "Each[0]"),
            event(2, MapIterationStarted, "Each", "Each[1]"),
            event(3, MapIterationStarted, "Each", "Each[2]"),
            event(4, TaskStateEntered, "Work", "Each[0]"),
            event(5, TaskStateEntered, "Work", "Each[1]"),
            event(6, TaskStateEntered, "Work", "Each[2]"),
            event(7, TaskStateExited, "Work", "Each[2]"),
            event(8, MapIterationSucceeded, "Each", "Each[2]"),
            event(9, TaskFailed, "Work", "Each[0]"),
            event(10, MapIterationFailed, "Each", "Each[0]"),
            // Another state's lanes are not touched.
            event(11, TaskStateEntered, "Work", "Eachother[0]"),
        ];
        let closed: Vec<(String, EventType)> = closings(&events, &SubLanes::of(None, "Each"))
            .into_iter()
            .map(|closing| (closing.lane, closing.kind))
            .collect();
        assert_eq!(
            closed,
            [
                ("Each[0]".to_owned(), TaskStateAborted),
                ("Each[1]".to_owned(), MapIterationAborted),
                ("Each[1]".to_owned(), TaskStateAborted),
            ]
        );
    }

    #[test]
    fn nested_lanes_are_found_below_the_parent_lane() {
        use EventType::*;
        let events = vec![
            event(1, MapStateEntered, "Inner", "Outer/0"),
            event(2, MapIterationStarted, "Inner", "Outer/0/Inner[0]"),
            event(3, WaitStateEntered, "Pause", "Outer/0/Inner[0]"),
            event(4, FailStateEntered, "Stop", "Outer/1"),
        ];
        let closed: Vec<(String, EventType)> = closings(&events, &SubLanes::of(None, "Outer"))
            .into_iter()
            .map(|closing| (closing.lane, closing.kind))
            .collect();
        assert_eq!(
            closed,
            [
                ("Outer/0".to_owned(), MapStateAborted),
                ("Outer/0/Inner[0]".to_owned(), MapIterationAborted),
                ("Outer/0/Inner[0]".to_owned(), WaitStateAborted),
            ]
        );
        assert!(closings(&events, &SubLanes::of(Some("Top[1]"), "Outer")).is_empty());
    }
}
