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
