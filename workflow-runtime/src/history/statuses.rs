//! How an execution went through each state, read from its history: the input of the
//! execution view ([`render::svg_execution`](crate::render::svg_execution)).

use std::collections::HashMap;

use workflow_core::render::{Status, Statuses};

use super::{EventType, History};

/// One visit of a state in one branch or iteration.
#[derive(Default, Clone, Copy)]
struct Visit {
    retried: bool,
    failed: bool,
    exited: bool,
    failure_exit: bool,
}

impl History {
    /// The status of every state the execution entered, by state name; states it never
    /// entered are absent (not reached).
    ///
    /// Within one branch or iteration the latest visit of a state counts (after a redrive, the
    /// state that failed and then succeeded shows as succeeded). Across the iterations of a Map
    /// or the branches of a Parallel state, the most telling status wins: failed, then running,
    /// caught, retried, succeeded.
    ///
    /// ```
    /// # use workflow::{render, History, Workflow};
    /// # fn view<W: Workflow>(history: &History) -> String {
    /// render::svg_execution(W::definition(), &history.statuses())
    /// # }
    /// ```
    pub fn statuses(&self) -> Statuses {
        let mut visits: HashMap<(&str, Option<&str>), Visit> = HashMap::new();
        let mut ended_in_failure = false;
        for event in self.events() {
            use EventType::*;
            match event.kind {
                ExecutionFailed | ExecutionTimedOut | ExecutionAborted => ended_in_failure = true,
                ExecutionRedriven => ended_in_failure = false,
                _ => {}
            }
            let Some(state) = event.state.as_deref() else {
                continue;
            };
            let key = (state, event.branch.as_deref());
            match event.kind {
                TaskStateEntered | ChoiceStateEntered | PassStateEntered | WaitStateEntered
                | SucceedStateEntered | ParallelStateEntered | MapStateEntered => {
                    visits.insert(key, Visit::default());
                }
                FailStateEntered => {
                    visits.insert(
                        key,
                        Visit {
                            failed: true,
                            exited: true,
                            failure_exit: true,
                            ..Visit::default()
                        },
                    );
                }
                // A retried Parallel or Map attempt shows only in the next attempt's start.
                ParallelStateStarted | MapStateStarted if event.retry_in.is_some() => {
                    visits.entry(key).or_default().retried = true;
                }
                TaskFailed
                | TaskTimedOut
                | LambdaFunctionFailed
                | LambdaFunctionTimedOut
                | ActivityFailed
                | ActivityTimedOut
                | ParallelStateFailed
                | MapStateFailed => {
                    let visit = visits.entry(key).or_default();
                    if event.retry_in.is_some() {
                        visit.retried = true;
                    } else {
                        visit.failed = true;
                    }
                }
                TaskStateExited | ChoiceStateExited | PassStateExited | WaitStateExited
                | SucceedStateExited | ParallelStateExited | MapStateExited => {
                    let visit = visits.entry(key).or_default();
                    visit.exited = true;
                }
                _ => {}
            }
        }
        let mut statuses = Statuses::new();
        for ((state, _), visit) in visits {
            let status = match (visit.exited, visit.failed) {
                (true, true) if visit.failure_exit => Status::Failed,
                // Exited after a failure with no retry left: a catcher took over.
                (true, true) => Status::Caught,
                (true, false) if visit.retried => Status::Retried,
                (true, false) => Status::Succeeded,
                (false, true) => Status::Failed,
                (false, false) if ended_in_failure => Status::Failed,
                (false, false) => Status::Running,
            };
            statuses
                .entry(state.to_owned())
                .and_modify(|current| {
                    if rank(status) > rank(*current) {
                        *current = status;
                    }
                })
                .or_insert(status);
        }
        statuses
    }
}

/// How telling a status is, when iterations or branches disagree.
fn rank(status: Status) -> u8 {
    match status {
        Status::NotReached => 0,
        Status::Succeeded => 1,
        Status::Retried => 2,
        Status::Caught => 3,
        Status::Running => 4,
        Status::Failed => 5,
    }
}
