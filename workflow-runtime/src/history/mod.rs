//! Execution history: the events of one execution, named as in Step Functions.

mod aws;
mod statuses;

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Declares `EventType` and its `name`, from one list of names.
macro_rules! event_types {
    ($($variant:ident),* $(,)?) => {
        /// The kind of an execution event. The names are those of Step Functions' history.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        #[allow(missing_docs)] // The names say it; see Step Functions' `HistoryEventType`.
        pub enum EventType {
            $($variant,)*
        }

        impl EventType {
            /// The event type's name, e.g. `TaskStateEntered` (also its serialised form).
            pub fn name(self) -> &'static str {
                match self {
                    $(EventType::$variant => stringify!($variant),)*
                }
            }
        }
    };
}

event_types!(
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionAborted,
    ExecutionRedriven,
    TaskStateEntered,
    TaskScheduled,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    TaskStateExited,
    TaskStateAborted,
    ChoiceStateEntered,
    ChoiceStateExited,
    PassStateEntered,
    PassStateExited,
    WaitStateEntered,
    WaitStateExited,
    WaitStateAborted,
    SucceedStateEntered,
    SucceedStateExited,
    FailStateEntered,
    ParallelStateEntered,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    ParallelStateAborted,
    ParallelStateExited,
    MapStateEntered,
    MapStateStarted,
    MapStateSucceeded,
    MapStateFailed,
    MapStateAborted,
    MapStateExited,
    MapIterationStarted,
    MapIterationSucceeded,
    MapIterationFailed,
    MapIterationAborted,
    MapRunStarted,
    MapRunSucceeded,
    MapRunFailed,
    MapRunAborted,
    EvaluationFailed,
    LambdaFunctionScheduled,
    LambdaFunctionStarted,
    LambdaFunctionSucceeded,
    LambdaFunctionFailed,
    LambdaFunctionTimedOut,
    ActivityScheduled,
    ActivityStarted,
    ActivitySucceeded,
    ActivityFailed,
    ActivityTimedOut,
);

impl EventType {
    /// The `Task*` event this is for a task of any kind: a Lambda function's
    /// (`LambdaFunctionScheduled` is `TaskScheduled`) or an activity's; any other event as it
    /// is. Step Functions names a task's events by what runs it; this compares histories
    /// whatever ran their tasks (a workflow and its ASL export, for one).
    pub fn as_task_event(self) -> EventType {
        use EventType::*;
        match self {
            LambdaFunctionScheduled | ActivityScheduled => TaskScheduled,
            LambdaFunctionStarted | ActivityStarted => TaskStarted,
            LambdaFunctionSucceeded | ActivitySucceeded => TaskSucceeded,
            LambdaFunctionFailed | ActivityFailed => TaskFailed,
            LambdaFunctionTimedOut | ActivityTimedOut => TaskTimedOut,
            other => other,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One event of an execution's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// Position in the history, from 1.
    pub id: u64,
    /// The id of the event this one follows (0 for the first).
    pub previous_event_id: u64,
    /// When the event happened, by the runtime's clock.
    #[serde(with = "crate::timestamp")]
    pub timestamp: SystemTime,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The state the event belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Cow<'static, str>>,
    /// Inside a Parallel or Map state: which branch or iteration, e.g. `Enrich/1` (branch 1
    /// of Parallel state `Enrich`) or `Transform[3]` (item 3 of Map state `Transform`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The state's or execution's input, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// The state's, task's or execution's output, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The error name, for failures; on the `ParallelStateStarted` or `MapStateStarted` of a
    /// retry, the error that failed the attempt before (Step Functions records no
    /// `*StateFailed` for a retried attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error's cause, for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The attempt of a task (1 for the first run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// For a failed task attempt that a retrier retries: the delay before the next attempt.
    /// On the `ParallelStateStarted` or `MapStateStarted` of a retry, recorded when the attempt
    /// before failed: the delay before this attempt runs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "workflow_core::serde_duration::option"
    )]
    pub retry_in: Option<Duration>,
    /// For a MapStateStarted: how many items the attempt runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    /// For a TaskTimedOut: whether the step sent no heartbeat in time. Its error is
    /// `States.Timeout`, as Step Functions records it; retriers and catchers for
    /// `States.HeartbeatTimeout` match it as well.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heartbeat_timeout: bool,
}

impl Event {
    /// A bare event; the recorder fills in the details.
    pub(crate) fn new(
        id: u64,
        previous_event_id: u64,
        timestamp: SystemTime,
        kind: EventType,
    ) -> Self {
        Event {
            id,
            previous_event_id,
            timestamp,
            kind,
            state: None,
            branch: None,
            input: None,
            output: None,
            error: None,
            cause: None,
            attempt: None,
            retry_in: None,
            length: None,
            heartbeat_timeout: false,
        }
    }

    /// The first event of an execution: ExecutionStarted with its input.
    pub(crate) fn execution_started(input: serde_json::Value, at: SystemTime) -> Self {
        let mut started = Event::new(1, 0, at, EventType::ExecutionStarted);
        started.input = Some(input);
        started
    }

    /// An event of the execution as a whole, following event `previous` (the last stored;
    /// 0 for none): ExecutionAborted, ExecutionFailed, ExecutionRedriven...
    pub(crate) fn following(previous: u64, at: SystemTime, kind: EventType) -> Self {
        Event::new(previous + 1, previous, at, kind)
    }

    /// This event with an error name and cause.
    pub(crate) fn with_failure(mut self, error: Option<String>, cause: Option<String>) -> Self {
        self.error = error;
        self.cause = cause;
        self
    }

    /// The stored end of an Express execution whose events went to its log: this last event
    /// of its run, as the event after ExecutionStarted, outside any state or branch.
    pub(crate) fn as_express_end(&self) -> Self {
        let mut end = self.clone();
        end.id = 2;
        end.previous_event_id = 1;
        end.state = None;
        end.branch = None;
        end
    }
}

/// The events of one execution, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct History {
    events: Vec<Event>,
}

impl History {
    pub(crate) fn from_events(events: Vec<Event>) -> Self {
        History { events }
    }

    /// Every event, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The event types in order: handy in tests.
    pub fn kinds(&self) -> Vec<EventType> {
        self.events.iter().map(|event| event.kind).collect()
    }

    /// The events of one state, in order.
    pub fn of_state<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events
            .iter()
            .filter(move |event| event.state.as_deref() == Some(state))
    }

    /// A readable table of the history, for terminals and logs.
    pub fn table(&self) -> HistoryTable<'_> {
        HistoryTable { history: self }
    }
}

impl From<Vec<Event>> for History {
    /// A history of stored events, e.g. read back with [`Runtime::history`](crate::Runtime::history).
    fn from(events: Vec<Event>) -> Self {
        History { events }
    }
}

impl<'a> IntoIterator for &'a History {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;

    fn into_iter(self) -> Self::IntoIter {
        self.events.iter()
    }
}

/// A history drawn as a text table; see [`History::table`].
#[derive(Debug, Clone, Copy)]
pub struct HistoryTable<'a> {
    history: &'a History,
}

/// The widest a detail cell gets before it is cut short.
const DETAIL_WIDTH: usize = 72;

impl fmt::Display for HistoryTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = self.history.events();
        let start = events.first().map(|event| event.timestamp);
        // The BRANCH column only when some event is inside a Parallel or Map state.
        let branches = events.iter().any(|event| event.branch.is_some());
        let mut header = vec!["ID", "PREV", "ELAPSED", "TYPE", "STATE"];
        if branches {
            header.push("BRANCH");
        }
        header.push("DETAIL");
        let rows: Vec<Vec<String>> = events
            .iter()
            .map(|event| {
                let elapsed = start
                    .and_then(|start| event.timestamp.duration_since(start).ok())
                    .unwrap_or(Duration::ZERO);
                let mut row = vec![
                    event.id.to_string(),
                    event.previous_event_id.to_string(),
                    format_elapsed(elapsed),
                    event.kind.name().to_owned(),
                    event.state.as_deref().unwrap_or("").to_owned(),
                ];
                if branches {
                    row.push(event.branch.clone().unwrap_or_default());
                }
                row.push(detail(event));
                row
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|cell| cell.len()).collect();
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            let last = cells.len() - 1;
            for (column, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                // Numbers right-aligned, text left-aligned; the last column is not padded.
                match column {
                    0..=2 => write!(f, "{cell:>width$}  ")?,
                    _ if column == last => write!(f, "{cell}")?,
                    _ => write!(f, "{cell:<width$}  ")?,
                }
            }
            writeln!(f)
        };
        line(f, &header)?;
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            line(f, &cells)?;
        }
        Ok(())
    }
}

fn format_elapsed(elapsed: Duration) -> String {
    let millis = elapsed.as_secs_f64() * 1000.0;
    if millis < 1000.0 {
        format!("{millis:.1}ms")
    } else {
        format!("{:.3}s", elapsed.as_secs_f64())
    }
}

fn format_delay(delay: Duration) -> String {
    let seconds = delay.as_secs_f64();
    if seconds < 1.0 {
        format!("{}ms", delay.as_millis())
    } else {
        // Up to millisecond precision, without trailing zeros: 3s, 4.5s, 10.125s.
        let text = format!("{seconds:.3}");
        format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
    }
}

fn detail(event: &Event) -> String {
    let mut text = String::new();
    if let Some(attempt) = event.attempt {
        text.push_str(&format!("attempt {attempt} "));
    }
    if let Some(delay) = event.retry_in {
        text.push_str(&format!("retry in {} ", format_delay(delay)));
    }
    if let Some(error) = &event.error {
        text.push_str(error);
        if let Some(cause) = &event.cause {
            text.push_str(": ");
            text.push_str(cause);
        }
    } else if let Some(output) = &event.output {
        text.push_str("output ");
        text.push_str(&output.to_string());
    } else if let Some(input) = &event.input {
        text.push_str("input ");
        text.push_str(&input.to_string());
    }
    let text = text.trim_end();
    if text.chars().count() > DETAIL_WIDTH {
        let cut: String = text.chars().take(DETAIL_WIDTH - 1).collect();
        format!("{cut}…")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u64, kind: EventType) -> Event {
        Event::new(
            id,
            id - 1,
            SystemTime::UNIX_EPOCH + Duration::from_millis(id * 1500),
            kind,
        )
    }

    #[test]
    fn event_round_trips_through_json() {
        let mut started = event(1, EventType::TaskFailed);
        started.state = Some("Charge".into());
        started.error = Some("PaymentError.Declined".into());
        started.cause = Some("card declined".into());
        started.attempt = Some(2);
        let json = serde_json::to_value(&started).expect("serialises");
        assert_eq!(json["type"], "TaskFailed");
        assert_eq!(json["timestamp"], "1970-01-01T00:00:01.500Z");
        let back: Event = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, started);
    }

    /// A damaged history may hold a time RFC 3339 cannot write; its JSON (the CLI's, the
    /// console's) must still be written, not panic.
    #[test]
    fn an_event_at_a_time_rfc3339_cannot_write_serialises_and_reads_back() {
        for at in [
            SystemTime::UNIX_EPOCH - Duration::from_secs(1),
            SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_800),
        ] {
            let mut damaged = event(1, EventType::TaskFailed);
            damaged.timestamp = at;
            let json = serde_json::to_value(&damaged).expect("serialises");
            let back: Event = serde_json::from_value(json).expect("deserialises");
            assert_eq!(back, damaged);
        }
    }

    #[test]
    fn event_type_names_match_serde_names() {
        for kind in [
            EventType::ExecutionStarted,
            EventType::MapIterationFailed,
            EventType::TaskStateExited,
        ] {
            assert_eq!(serde_json::to_value(kind).expect("serialises"), kind.name());
        }
    }

    #[test]
    fn table_lists_every_event_with_elapsed_time() {
        let mut failed = event(2, EventType::TaskFailed);
        failed.state = Some("Charge".into());
        failed.error = Some("PaymentError.Declined".into());
        failed.cause = Some("x".repeat(200));
        let history = History::from_events(vec![event(1, EventType::ExecutionStarted), failed]);
        let table = history.table().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("ID  PREV  ELAPSED"));
        assert!(lines[2].contains("1.500s"));
        assert!(lines[2].contains("TaskFailed"));
        assert!(lines[2].contains("PaymentError.Declined: xxx"));
        assert!(lines[2].ends_with('…'));
    }
}
