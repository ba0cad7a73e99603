//! How the SQL stores write statuses and times: shared, so both read each other's words.

use std::time::{Duration, SystemTime};

use crate::execution::ExecutionStatus;

pub(crate) fn status_text(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Running => "Running",
        ExecutionStatus::Succeeded => "Succeeded",
        ExecutionStatus::Failed => "Failed",
        ExecutionStatus::TimedOut => "TimedOut",
        ExecutionStatus::Aborted => "Aborted",
    }
}

pub(crate) fn parse_status(text: &str) -> Option<ExecutionStatus> {
    [
        ExecutionStatus::Running,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
    ]
    .into_iter()
    .find(|status| status_text(*status) == text)
}

/// Nanoseconds since the Unix epoch (times before it are stored as 0).
pub(crate) fn nanos(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        })
}

pub(crate) fn time(nanos: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}
