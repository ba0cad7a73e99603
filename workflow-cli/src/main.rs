//! `workflow`: list, describe and draw the executions in a workflow store, from a terminal.
//!
//! ```text
//! workflow --store sqlite://orders.db list --status failed
//! workflow --store sqlite://orders.db history order-1
//! workflow --store sqlite://orders.db diagram --execution order-1 > order-1.svg
//! ```

mod args;
mod asl;
mod commands;
mod console;
mod output;
mod query;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches};
use workflow_runtime::store::{Store, StoreError};

use args::{Cli, Command};

/// Why a command failed, for its message and exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The store could not be opened or read.
    Store(StoreError),
    /// What was asked for does not exist.
    NotFound(String),
    /// The command cannot be carried out as given.
    Usage(String),
    /// The output could not be written as JSON.
    Json(serde_json::Error),
    /// The console allows no changes (it has no token).
    ReadOnly,
    /// A definition is invalid, or an execution failed: the output says why.
    Unsuccessful(String),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Self {
        Failure::Json(error)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The reading commands do not upgrade a store: say who does.
            Failure::Store(error @ StoreError::Schema { found, expected }) if found < expected => {
                write!(f, "{error}: a runtime of this version upgrades the store when it opens it")
            }
            Failure::Store(error @ StoreError::Schema { .. }) => {
                write!(f, "{error}: use the `workflow` command of the version that wrote it")
            }
            Failure::Store(error) => write!(f, "{error}"),
            Failure::NotFound(message) | Failure::Usage(message) => f.write_str(message),
            Failure::Json(error) => write!(f, "the output could not be written as JSON: {error}"),
            Failure::Unsuccessful(text) => f.write_str(text),
            Failure::ReadOnly => f.write_str(
                "the console is read-only: start it with a token (--token) to allow stop and redrive",
            ),
        }
    }
}

/// Opens the store `url` names, for reading only or for writing too; a SQLite file must exist
/// already (a typo must not create an empty store).
async fn open(url: &str, access: Access) -> Result<Arc<dyn Store>, Failure> {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    let sqlite = !url.contains("://") || url.starts_with("sqlite://");
    if sqlite && !std::path::Path::new(path).is_file() {
        return Err(Failure::NotFound(format!(
            "no store at `{path}`: give an existing SQLite file (--store sqlite://path) or a PostgreSQL URL, or set WORKFLOW_STORE"
        )));
    }
    Ok(match access {
        Access::Read => workflow_runtime::store::open_read_only(url).await?,
        Access::Write => workflow_runtime::store::open(url).await?,
    })
}

/// What a command does to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Reads only: a SQLite file is opened read-only (no schema written, no waiting on
    /// writers, a file or directory it may not write is fine).
    Read,
    /// Writes too (purge, stop, redrive, a console with a token).
    Write,
}

impl Command {
    fn access(&self) -> Access {
        match self {
            Command::List(_)
            | Command::Describe(_)
            | Command::History(_)
            | Command::Workflows(_)
            | Command::Diagram(_)
            | Command::CheckDeploy(_) => Access::Read,
            // Without a token the console only reads.
            Command::Serve(args) if args.token.is_none() => Access::Read,
            Command::Serve(_) | Command::Purge(_) | Command::Stop(_) | Command::Redrive(_) => {
                Access::Write
            }
            // Handled before a store is opened.
            Command::Asl(_) => Access::Read,
        }
    }
}

/// Runs the command; `store_given` says whether the store was given rather than defaulted.
async fn run(cli: Cli, store_given: bool) -> Result<String, Failure> {
    if let Command::Asl(command) = cli.command {
        return asl::run(command, store_given.then_some(cli.store.as_str())).await;
    }
    let store = open(&cli.store, cli.command.access()).await?;
    match cli.command {
        Command::List(args) => commands::list(&store, args).await,
        Command::Describe(args) => commands::describe(&store, args).await,
        Command::History(args) => commands::history(&store, args).await,
        Command::Workflows(args) => commands::workflows(&store, args).await,
        Command::Diagram(args) => commands::diagram(&store, args).await,
        Command::Purge(args) => commands::purge(&store, args).await,
        Command::CheckDeploy(args) => commands::check_deploy(&store, args).await,
        Command::Serve(args) => {
            console::serve(store, args.bind, args.token, &args.allow_hosts).await
        }
        Command::Stop(args) => {
            let kind = workflow_runtime::store::RequestKind::Stop {
                error: args.error,
                cause: args.cause,
            };
            commands::request(&store, args.request, kind).await
        }
        Command::Redrive(args) => {
            commands::request(&store, args, workflow_runtime::store::RequestKind::Redrive).await
        }
        Command::Asl(command) => asl::run(command, None).await,
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    // `asl run` keeps its execution in a store only when one is asked for.
    let store_given = matches
        .value_source("store")
        .is_some_and(|source| source != clap::parser::ValueSource::DefaultValue);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, store_given)) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = stdout.write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(Failure::Unsuccessful(text)) => {
            // What went wrong is the command's output, on stdout like a success's.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::FAILURE
        }
        Err(failure) => {
            eprintln!("error: {failure}");
            match failure {
                Failure::NotFound(_) => ExitCode::from(2),
                Failure::Usage(_) => ExitCode::from(64),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
