//! The log sink of Express executions: their events, as structured `tracing` events and, if
//! switched on, as JSON lines in a file (the analogue of Step Functions' CloudWatch Logs).

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use crate::execution::ExecutionId;
use crate::history::{Event, EventType};

/// Which events of Express executions are logged (Step Functions' `level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogLevel {
    /// Nothing.
    #[default]
    Off,
    /// Only how failed executions ended: ExecutionFailed, ExecutionTimedOut, ExecutionAborted.
    Fatal,
    /// Every failure: those, and failed or timed-out tasks, branches and iterations.
    Error,
    /// Every event.
    All,
}

impl LogLevel {
    /// Whether an event of `kind` is logged at this level.
    pub fn logs(self, kind: EventType) -> bool {
        use EventType::*;
        let fatal = matches!(kind, ExecutionFailed | ExecutionTimedOut | ExecutionAborted);
        let error = fatal
            || matches!(
                kind,
                TaskFailed
                    | TaskTimedOut
                    | ParallelStateFailed
                    | MapStateFailed
                    | MapIterationFailed
            );
        match self {
            LogLevel::Off => false,
            LogLevel::Fatal => fatal,
            LogLevel::Error => error,
            LogLevel::All => true,
        }
    }
}

/// How Express executions log: level, payloads, and an optional JSON-lines file.
///
/// ```
/// use workflow::{LogLevel, Logging};
///
/// let logging = Logging::new(LogLevel::All)
///     .include_payloads(true)
///     .json_lines(std::env::temp_dir().join("express.jsonl"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logging {
    level: LogLevel,
    include_payloads: bool,
    json_lines: Option<PathBuf>,
}

impl Logging {
    /// Logging at `level`, through `tracing` only, without payloads.
    pub fn new(level: LogLevel) -> Self {
        Logging {
            level,
            ..Self::default()
        }
    }

    /// Whether events carry their input and output (`includeExecutionData`).
    pub fn include_payloads(mut self, include: bool) -> Self {
        self.include_payloads = include;
        self
    }

    /// Also appends every logged event, as one JSON object per line, to the file at `path`.
    pub fn json_lines(mut self, path: impl Into<PathBuf>) -> Self {
        self.json_lines = Some(path.into());
        self
    }

    /// The level.
    pub fn level(&self) -> LogLevel {
        self.level
    }
}

/// Where Express events go.
#[derive(Debug)]
pub(crate) struct LogSink {
    level: LogLevel,
    include_payloads: bool,
    file: Option<Mutex<File>>,
}

/// One line of the JSON-lines log.
#[derive(Serialize)]
struct Line<'a> {
    execution_id: &'a ExecutionId,
    workflow: &'a str,
    #[serde(flatten)]
    event: &'a Event,
}

impl LogSink {
    pub(crate) fn open(logging: &Logging) -> std::io::Result<Self> {
        let file = match &logging.json_lines {
            Some(path) => {
                if let Some(parent) = path
                    .parent()
                    .filter(|parent| !parent.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent)?;
                }
                Some(Mutex::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)?,
                ))
            }
            None => None,
        };
        Ok(LogSink {
            level: logging.level,
            include_payloads: logging.include_payloads,
            file,
        })
    }

    /// Whether events of `kind` are logged.
    pub(crate) fn wants(&self, kind: EventType) -> bool {
        self.level.logs(kind)
    }

    /// Logs `event` of execution `execution`, if the level says so.
    pub(crate) fn emit(&self, execution: &ExecutionId, workflow: &str, event: &Event) {
        if !self.wants(event.kind) {
            return;
        }
        let stripped;
        let event = if self.include_payloads || (event.input.is_none() && event.output.is_none()) {
            event
        } else {
            let mut copy = event.clone();
            copy.input = None;
            copy.output = None;
            stripped = copy;
            &stripped
        };
        let failure = event.error.is_some();
        if failure {
            tracing::error!(
                target: "workflow::express",
                execution = %execution,
                workflow,
                event = %event.kind,
                state = event.state.as_deref(),
                error = event.error.as_deref(),
                cause = event.cause.as_deref(),
            );
        } else {
            tracing::info!(
                target: "workflow::express",
                execution = %execution,
                workflow,
                event = %event.kind,
                state = event.state.as_deref(),
                input = event.input.as_ref().map(|input| input.to_string()),
                output = event.output.as_ref().map(|output| output.to_string()),
            );
        }
        if let Some(file) = &self.file {
            let line = Line {
                execution_id: execution,
                workflow,
                event,
            };
            if let Ok(mut text) = serde_json::to_vec(&line) {
                text.push(b'\n');
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                // One write per line, so that lines from concurrent executions never interleave.
                if let Err(error) = file.write_all(&text) {
                    tracing::error!(target: "workflow::express", %error, "the JSON-lines log could not be written");
                }
            }
        }
    }
}
