//! How the SQL stores write statuses and times: shared, so both read each other's words.

use std::time::{Duration, SystemTime};

use super::{CallbackRecord, CallbackStatus, ExecutionRecord, StoreError};
use crate::execution::{ExecutionId, ExecutionStatus};

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

/// The columns of a stored execution, as the SQL stores keep them.
pub(crate) struct ExecutionColumns {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) workflow: String,
    pub(crate) status: String,
    pub(crate) input: String,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    pub(crate) started_at: i64,
    pub(crate) stopped_at: Option<i64>,
    pub(crate) fingerprint: String,
}

impl ExecutionColumns {
    /// The record, or why the stored data does not read as one.
    pub(crate) fn into_record(self) -> Result<ExecutionRecord, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            execution: self.id.clone(),
            reason,
        };
        let status = parse_status(&self.status)
            .ok_or_else(|| corrupt(format!("unknown status `{}`", self.status)))?;
        let input = serde_json::from_str(&self.input)
            .map_err(|error| corrupt(format!("input: {error}")))?;
        let output = self
            .output
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|error| corrupt(format!("output: {error}")))?;
        Ok(ExecutionRecord {
            id: ExecutionId::from(self.id.as_str()),
            name: self.name,
            workflow: self.workflow,
            fingerprint: self.fingerprint,
            status,
            input,
            output,
            error: self.error,
            cause: self.cause,
            started_at: time(self.started_at),
            stopped_at: self.stopped_at.map(time),
        })
    }
}

/// The columns of a stored callback.
pub(crate) struct CallbackColumns {
    pub(crate) token_hash: String,
    pub(crate) execution: String,
    pub(crate) workflow: String,
    pub(crate) state: String,
    pub(crate) event_id: i64,
    pub(crate) status: String,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    pub(crate) heartbeat_at: Option<i64>,
    pub(crate) created_at: i64,
}

impl CallbackColumns {
    /// The record, or why the stored data does not read as one.
    pub(crate) fn into_record(self) -> Result<CallbackRecord, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            execution: self.execution.clone(),
            reason,
        };
        let status = CallbackStatus::parse(&self.status)
            .ok_or_else(|| corrupt(format!("unknown callback status `{}`", self.status)))?;
        let output = self
            .output
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|error| corrupt(format!("a callback's output is not JSON: {error}")))?;
        Ok(CallbackRecord {
            token_hash: self.token_hash,
            execution: ExecutionId::from(self.execution.as_str()),
            workflow: self.workflow,
            state: self.state,
            event_id: u64::try_from(self.event_id).unwrap_or_default(),
            status,
            output,
            error: self.error,
            cause: self.cause,
            heartbeat_at: self.heartbeat_at.map(time),
            created_at: time(self.created_at),
        })
    }
}

/// The columns of a recorded definition, read back.
pub(crate) struct DefinitionColumns {
    pub(crate) workflow: String,
    pub(crate) fingerprint: String,
    pub(crate) definition: String,
    pub(crate) registered_at: i64,
}

impl DefinitionColumns {
    pub(crate) fn into_definition(self) -> Result<super::StoredDefinition, StoreError> {
        let definition = serde_json::from_str(&self.definition).map_err(|error| {
            StoreError::CorruptDefinition {
                workflow: self.workflow.clone(),
                reason: error.to_string(),
            }
        })?;
        Ok(super::StoredDefinition {
            workflow: self.workflow,
            fingerprint: self.fingerprint,
            definition,
            registered_at: time(self.registered_at),
        })
    }
}

/// A definition as stored: JSON text.
pub(crate) fn definition_text(definition: &super::StoredDefinition) -> Result<String, StoreError> {
    serde_json::to_string(&definition.definition).map_err(|error| StoreError::CorruptDefinition {
        workflow: definition.workflow.clone(),
        reason: error.to_string(),
    })
}

/// Where an append's events `first..=last` meet the stored history, whose last event is
/// `stored_last` (0 for none): how many of them are stored already, to be compared with what
/// is stored, or a conflict when they do not follow it.
pub(crate) fn stored_overlap(
    execution: &str,
    first: u64,
    last: u64,
    stored_last: u64,
) -> Result<u64, StoreError> {
    if first > stored_last + 1 {
        return Err(StoreError::Conflict {
            execution: execution.to_owned(),
            reason: format!(
                "events {first} to {last} do not follow event {stored_last}, the last stored"
            ),
        });
    }
    Ok((stored_last + 1 - first).min(last + 1 - first))
}

/// Whether the stored events (as JSON) are the ones an append brings again (as JSON texts),
/// or a conflict naming them.
pub(crate) fn check_same_events(
    execution: &str,
    stored: &[serde_json::Value],
    ours: &[String],
) -> Result<(), StoreError> {
    let same = stored.len() == ours.len()
        && stored.iter().zip(ours).all(|(stored, ours)| {
            serde_json::from_str::<serde_json::Value>(ours).is_ok_and(|ours| &ours == stored)
        });
    if same {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            execution: execution.to_owned(),
            reason: format!(
                "{} of its events are stored already, with other contents: another runtime wrote them",
                ours.len()
            ),
        })
    }
}

/// The conflict of a write that needs a running execution and found it `status` (`None`: no
/// such execution).
pub(crate) fn not_running(execution: &str, status: Option<&str>) -> StoreError {
    StoreError::Conflict {
        execution: execution.to_owned(),
        reason: match status {
            Some(status) => format!("it is not running: it has ended ({status})"),
            None => "no such execution".to_owned(),
        },
    }
}

/// Whether an execution of this stored status can be redriven.
pub(crate) fn redrivable(status: &str) -> bool {
    [
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
    ]
    .into_iter()
    .any(|redrivable| status_text(redrivable) == status)
}

/// The conflict of a redrive of an execution that is `status`.
pub(crate) fn not_redrivable(execution: &str, status: Option<&str>) -> StoreError {
    StoreError::Conflict {
        execution: execution.to_owned(),
        reason: match status {
            Some(status) => format!(
                "it is {status}; only failed, timed-out or aborted executions can be redriven"
            ),
            None => "no such execution".to_owned(),
        },
    }
}
