//! The command line: what each command takes.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// List, describe and draw the executions in a workflow store.
#[derive(Debug, Parser)]
#[command(name = "workflow", version, about)]
pub(crate) struct Cli {
    /// The store: sqlite://path (a file that must exist), postgres://user@host/database.
    /// Commands that only read open a SQLite file read-only.
    #[arg(
        long,
        global = true,
        env = "WORKFLOW_STORE",
        default_value = "sqlite://executions.db"
    )]
    pub(crate) store: String,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Executions, newest first.
    List(ListArgs),
    /// One execution: status, input, output, error.
    Describe(ExecutionArgs),
    /// An execution's history, event by event.
    History(HistoryArgs),
    /// The workflows whose definitions runtimes recorded in the store.
    Workflows(JsonArg),
    /// The diagram of a workflow, or of an execution coloured by the status of each state.
    Diagram(DiagramArgs),
    /// Deletes executions that ended more than a given time ago, with their histories.
    Purge(PurgeArgs),
    /// Serves the web console: workflows, executions, histories and diagrams in a browser
    /// (read-only without --token).
    Serve(ServeArgs),
    /// Asks a runtime that has the workflow (and serves) to stop an execution.
    Stop(StopArgs),
    /// Asks a runtime that has the workflow (and serves) to redrive a failed execution.
    Redrive(RequestArgs),
    /// Checks that a binary's workflows can resume every running execution in the store;
    /// exits 1, naming the versions and states, when some would be left without code.
    CheckDeploy(CheckDeployArgs),
    /// Amazon States Language files: check, draw or run one (no store needed).
    #[command(subcommand)]
    Asl(AslCommand),
}

#[derive(Debug, Args)]
pub(crate) struct CheckDeployArgs {
    /// The binary's workflow definitions, as `Runtime::export_definitions` writes them (a JSON
    /// array).
    #[arg(long)]
    pub(crate) definitions: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AslCommand {
    /// Checks a definition; lists every problem, at its JSON pointer.
    Validate(AslFile),
    /// Draws a definition.
    Diagram(AslDiagramArgs),
    /// Runs a definition in memory and prints its history; exits 1 if the execution fails.
    Run(AslRunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AslFile {
    /// The definition's file (JSON).
    pub(crate) file: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct AslDiagramArgs {
    #[command(flatten)]
    pub(crate) file: AslFile,
    /// mermaid, dot, svg or asl.
    #[arg(long, default_value = "svg", value_parser = parse_format)]
    pub(crate) format: workflow_runtime::render::Format,
}

#[derive(Debug, Args)]
pub(crate) struct AslRunArgs {
    #[command(flatten)]
    pub(crate) file: AslFile,
    /// The execution's input, as JSON.
    #[arg(long, default_value = "{}")]
    pub(crate) input: String,
    /// Step Functions Local's mock configuration (MockConfigFile.json), which answers the
    /// Task states.
    #[arg(long, requires = "test_case")]
    pub(crate) mock_config: Option<std::path::PathBuf>,
    /// The test case of the mock configuration to run.
    #[arg(long, requires = "mock_config")]
    pub(crate) test_case: Option<String>,
    /// The state machine of the mock configuration (by default the file's name without its
    /// extensions, e.g. `order` for order.asl.json).
    #[arg(long)]
    pub(crate) state_machine: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RequestArgs {
    /// The execution's id or name.
    pub(crate) execution: String,
    /// The workflow, to find an execution by name.
    #[arg(long)]
    pub(crate) workflow: Option<String>,
    /// Wait this long (e.g. 30s) for a runtime to carry the request out, and say how it went.
    #[arg(long, value_parser = parse_wait)]
    pub(crate) wait: Option<Duration>,
}

#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    #[command(flatten)]
    pub(crate) request: RequestArgs,
    /// The error name to record.
    #[arg(long)]
    pub(crate) error: Option<String>,
    /// The cause to record.
    #[arg(long)]
    pub(crate) cause: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where to listen. Any address but a loopback one needs --token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) bind: std::net::SocketAddr,
    /// A token every request must carry (`Authorization: Bearer ...`, or open /?token=... once).
    /// Without one the console only reads; with one it can stop and redrive executions.
    #[arg(long, env = "WORKFLOW_CONSOLE_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Another host name the console answers to (repeatable), e.g. console.example.com behind a
    /// proxy. Requests naming any other host are refused, so that no other site can reach the
    /// console through its own name (DNS rebinding); the bound address (and localhost, on a
    /// loopback address) is always answered. NAME:PORT allows that port only.
    #[arg(long = "allow-host", value_name = "NAME", value_parser = parse_host)]
    pub(crate) allow_hosts: Vec<String>,
}

fn parse_host(text: &str) -> Result<String, String> {
    crate::console::parse_allowed(text).map(|_| text.to_owned())
}

#[derive(Debug, Args)]
pub(crate) struct JsonArg {
    /// JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only this workflow's executions.
    #[arg(long)]
    pub(crate) workflow: Option<String>,
    /// Only executions with this status: running, succeeded, failed, timed-out, aborted.
    #[arg(long, value_parser = parse_status)]
    pub(crate) status: Option<workflow_runtime::ExecutionStatus>,
    /// Only executions started within this long (e.g. 30m, 2h, 7d; back to 1970 at most).
    #[arg(long, value_parser = parse_age)]
    pub(crate) since: Option<Duration>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub(crate) limit: usize,
    #[command(flatten)]
    pub(crate) json: JsonArg,
}

#[derive(Debug, Args)]
pub(crate) struct ExecutionArgs {
    /// The execution's id, or its name (with --workflow when names repeat across workflows).
    pub(crate) execution: String,
    /// The workflow, to find an execution by name.
    #[arg(long)]
    pub(crate) workflow: Option<String>,
    #[command(flatten)]
    pub(crate) json: JsonArg,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The execution's id, or its name (with --workflow when names repeat across workflows).
    pub(crate) execution: String,
    /// The workflow, to find an execution by name.
    #[arg(long)]
    pub(crate) workflow: Option<String>,
    /// JSON instead of a table (the same as --format json).
    #[arg(long, conflicts_with = "format")]
    pub(crate) json: bool,
    /// How to print the history.
    #[arg(long, value_enum)]
    pub(crate) format: Option<HistoryFormat>,
}

impl HistoryArgs {
    /// The format asked for: `--format`, else `--json`, else the table.
    pub(crate) fn format(&self) -> HistoryFormat {
        match (self.format, self.json) {
            (Some(format), _) => format,
            (None, true) => HistoryFormat::Json,
            (None, false) => HistoryFormat::Table,
        }
    }
}

/// The ways `history` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HistoryFormat {
    /// A table for reading.
    Table,
    /// The events as the store keeps them.
    Json,
    /// Step Functions' GetExecutionHistory shape: {"events": [...]}, with AWS's event details.
    Aws,
}

#[derive(Debug, Args)]
pub(crate) struct DiagramArgs {
    /// A workflow's name: its latest recorded definition.
    #[arg(
        long,
        conflicts_with = "execution",
        required_unless_present = "execution"
    )]
    pub(crate) workflow: Option<String>,
    /// An execution's id or name: its workflow's definition as it ran, coloured by status.
    #[arg(long)]
    pub(crate) execution: Option<String>,
    /// mermaid, dot, svg or asl (asl: workflows only).
    #[arg(long, default_value = "svg", value_parser = parse_format)]
    pub(crate) format: workflow_runtime::render::Format,
}

#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Delete executions that ended more than this long ago (e.g. 90d; back to 1970 at most).
    #[arg(long, value_parser = parse_age)]
    pub(crate) older_than: Duration,
}

pub(crate) fn parse_status(text: &str) -> Result<workflow_runtime::ExecutionStatus, String> {
    use workflow_runtime::ExecutionStatus::*;
    match text.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
        "running" => Ok(Running),
        "succeeded" => Ok(Succeeded),
        "failed" => Ok(Failed),
        "timedout" => Ok(TimedOut),
        "aborted" => Ok(Aborted),
        // Executions whose stored status does not read.
        "unknown" => Ok(Unknown),
        _ => Err(format!(
            "`{text}` is no status: use running, succeeded, failed, timed-out, aborted or unknown"
        )),
    }
}

/// A duration back from now (`--since`, `--older-than`), refused unless now minus it is a time
/// a store can hold: stores count time from 1970, and `SystemTime` arithmetic past its range
/// would panic.
fn parse_age(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|error| error.to_string())?;
    ago(duration)?;
    Ok(duration)
}

/// Now minus `duration`, if it is no earlier than 1970.
pub(crate) fn ago(duration: Duration) -> Result<SystemTime, String> {
    let now = SystemTime::now();
    now.checked_sub(duration)
        .filter(|at| *at >= UNIX_EPOCH)
        .ok_or_else(|| {
            // Julian years, as humantime counts them.
            let years = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 31_557_600;
            format!(
                "{} is out of range: a store's times begin in 1970, so give at most {years}y",
                humantime::format_duration(duration)
            )
        })
}

/// How long `--wait` waits, refused when the clock cannot count that far ahead.
fn parse_wait(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|error| error.to_string())?;
    deadline(duration)?;
    Ok(duration)
}

/// Now plus `duration`, on the monotonic clock.
pub(crate) fn deadline(duration: Duration) -> Result<Instant, String> {
    Instant::now().checked_add(duration).ok_or_else(|| {
        format!(
            "{} is out of range: this machine's clock cannot count that far ahead (a wait of 1d is plenty)",
            humantime::format_duration(duration)
        )
    })
}

fn parse_format(text: &str) -> Result<workflow_runtime::render::Format, String> {
    text.parse().map_err(|error| format!("{error}"))
}
