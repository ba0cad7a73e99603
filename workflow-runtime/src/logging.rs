//! The log of Express executions: their events, as structured `tracing` events (the
//! analogue of Step Functions' CloudWatch Logs). Where they go is the application's choice,
//! as for any `tracing` event: a JSON-lines file is `tracing-subscriber`'s JSON layer over a
//! `tracing-appender` writer, filtered to the target `workflow::express` (see [`Logging`]).

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

/// How Express executions log: which events, and whether with their payloads.
///
/// Each logged event is a `tracing` event of target `workflow::express`, at level `ERROR` for
/// failures and `INFO` otherwise, whose message is the event's type and whose fields are:
///
/// | field | value |
/// |---|---|
/// | `workflow.name` | the workflow |
/// | `workflow.execution.id` | the execution |
/// | `workflow.event.id`, `workflow.event.previous_id` | the event's place in the history |
/// | `workflow.event.type` | e.g. `TaskFailed` |
/// | `workflow.state.name` | the state, if any |
/// | `workflow.task.attempt` | the attempt, for task events |
/// | `error.type`, `workflow.error.cause` | the error name and cause, for failures |
/// | `workflow.input`, `workflow.output` | the payloads as JSON text, with [`include_payloads`](Self::include_payloads) |
///
/// To write them as JSON lines to a file, as CloudWatch Logs would hold them, install
/// `tracing-subscriber`'s JSON layer over a `tracing-appender` writer (`examples/events.rs`
/// does):
///
/// ```no_run
/// use tracing_subscriber::filter::Targets;
/// use tracing_subscriber::prelude::*;
/// use workflow::{LogLevel, Logging, Runtime};
///
/// let (file, _flush_on_drop) =
///     tracing_appender::non_blocking(tracing_appender::rolling::daily("logs", "express.jsonl"));
/// tracing_subscriber::registry()
///     .with(
///         tracing_subscriber::fmt::layer()
///             .json()
///             .flatten_event(true)
///             .with_writer(file)
///             .with_filter(Targets::new().with_target("workflow::express", tracing::Level::INFO)),
///     )
///     .init();
///
/// let runtime = Runtime::builder()
///     .express_logging(Logging::new(LogLevel::All).include_payloads(true))
///     // .register::<...>()
///     .build();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logging {
    level: LogLevel,
    include_payloads: bool,
}

impl Logging {
    /// Logging at `level`, without payloads.
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
}

impl LogSink {
    pub(crate) fn new(logging: &Logging) -> Self {
        LogSink {
            level: logging.level,
            include_payloads: logging.include_payloads,
        }
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
        let payload = |value: &Option<serde_json::Value>| {
            value
                .as_ref()
                .filter(|_| self.include_payloads)
                .map(ToString::to_string)
        };
        // One call per level: a tracing event's level is a constant where it is written.
        macro_rules! express_event {
            ($level:expr) => {
                tracing::event!(
                    target: "workflow::express",
                    $level,
                    workflow.name = workflow,
                    workflow.execution.id = execution.as_str(),
                    workflow.event.id = event.id,
                    workflow.event.previous_id = event.previous_event_id,
                    workflow.event.type = event.kind.name(),
                    workflow.state.name = event.state.as_deref(),
                    workflow.task.attempt = event.attempt,
                    error.type = event.error.as_deref(),
                    workflow.error.cause = event.cause.as_deref(),
                    workflow.input = payload(&event.input),
                    workflow.output = payload(&event.output),
                    "{}",
                    event.kind,
                )
            };
        }
        if event.error.is_some() {
            express_event!(tracing::Level::ERROR);
        } else {
            express_event!(tracing::Level::INFO);
        }
    }
}
