//! Settings a state works out from its input (Step Functions' `*Path` fields): a task's
//! timeout and heartbeat, a Map state's concurrency and tolerated failures, a Wait state's
//! duration or time. Generated code applies the user's functions to the state's input and
//! hands the values over; here they take the place of the definition's and are checked as
//! Step Functions checks a value read from the input, which fails the state with
//! `States.Runtime` when it is out of range.

use std::time::{Duration, SystemTime};

use workflow_core::definition::{MapState, TaskState};

/// A task's timers worked out from its input; `None` keeps what the definition says.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComputedTimers {
    /// The timeout of each attempt.
    pub timeout: Option<Duration>,
    /// The longest silence allowed between heartbeats.
    pub heartbeat: Option<Duration>,
}

impl ComputedTimers {
    /// Nothing computed: the definition's timers.
    pub const AS_DEFINED: Self = ComputedTimers {
        timeout: None,
        heartbeat: None,
    };
}

/// The timers a task's attempts run under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskTimers {
    pub(crate) timeout: Option<Duration>,
    pub(crate) heartbeat: Option<Duration>,
}

impl TaskTimers {
    /// The definition's timers with the computed ones in their place; why not, when a
    /// computed value is out of range.
    #[inline]
    pub(crate) fn of(task: &TaskState, computed: ComputedTimers) -> Result<Self, String> {
        if computed.timeout.is_none() && computed.heartbeat.is_none() {
            return Ok(TaskTimers {
                timeout: task.timeout,
                heartbeat: task.heartbeat,
            });
        }
        Self::with_computed(task, computed)
    }

    /// [`of`](Self::of) when the input gives a timer: checked, as the definition's were
    /// when the workflow compiled.
    fn with_computed(task: &TaskState, computed: ComputedTimers) -> Result<Self, String> {
        for (setting, value) in [
            ("timeout", computed.timeout),
            ("heartbeat interval", computed.heartbeat),
        ] {
            if value.is_some_and(|value| value.is_zero()) {
                return Err(format!(
                    "the {setting} worked out from the state's input is 0s; it must be positive"
                ));
            }
        }
        let timers = TaskTimers {
            timeout: computed.timeout.or(task.timeout),
            heartbeat: computed.heartbeat.or(task.heartbeat),
        };
        if let (Some(timeout), Some(heartbeat)) = (timers.timeout, timers.heartbeat) {
            if heartbeat >= timeout {
                return Err(format!(
                    "the heartbeat interval ({}) must be shorter than the timeout ({}); one of them is worked out from the state's input",
                    humantime::format_duration(heartbeat),
                    humantime::format_duration(timeout)
                ));
            }
        }
        Ok(timers)
    }

    /// Whether an attempt runs under no timer at all.
    pub(crate) fn is_none(&self) -> bool {
        self.timeout.is_none() && self.heartbeat.is_none()
    }
}

/// A Map state's limits worked out from its input; `None` keeps what the definition says.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComputedMapLimits {
    /// How many items run at once (0: no limit).
    pub max_concurrency: Option<u32>,
    /// How many items may fail before the state fails.
    pub tolerated_count: Option<u32>,
    /// What share of the items (0 to 100 %) may fail before the state fails.
    pub tolerated_percentage: Option<f64>,
}

impl ComputedMapLimits {
    /// Nothing computed: the definition's limits.
    pub const AS_DEFINED: Self = ComputedMapLimits {
        max_concurrency: None,
        tolerated_count: None,
        tolerated_percentage: None,
    };
}

/// The limits a Map state's iterations run under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapLimits {
    pub(crate) max_concurrency: usize,
    pub(crate) tolerated_count: Option<u32>,
    pub(crate) tolerated_percentage: Option<f64>,
}

impl MapLimits {
    /// The definition's limits with the computed ones in their place; why not, when a
    /// computed value is out of range.
    pub(crate) fn of(map: &MapState, computed: ComputedMapLimits) -> Result<Self, String> {
        if let Some(share) = computed.tolerated_percentage {
            if !(0.0..=100.0).contains(&share) {
                return Err(format!(
                    "the tolerated failure percentage worked out from the state's input is {share}; it must be from 0 to 100"
                ));
            }
        }
        let max_concurrency = computed.max_concurrency.unwrap_or(map.max_concurrency);
        Ok(MapLimits {
            max_concurrency: usize::try_from(max_concurrency).unwrap_or(usize::MAX),
            tolerated_count: computed.tolerated_count.or(map.tolerated_failure_count),
            tolerated_percentage: computed
                .tolerated_percentage
                .or(map.tolerated_failure_percentage),
        })
    }
}

/// When a Wait state ends, worked out from its input.
#[derive(Debug, Clone, Copy)]
pub enum Wake {
    /// At this time (`TimestampPath`).
    At(SystemTime),
    /// This long after the state is entered (`SecondsPath`).
    After(Duration),
}
