//! `workflow asl validate|diagram|run FILE`: Amazon States Language files; a run keeps its
//! execution in the store when one is given (`--store`), else in memory.

use std::path::Path;

use serde_json::Value;
use workflow_asl::{AslWorkflow, Handlers, RegisterAsl};
use workflow_runtime::history::History;
use workflow_runtime::render::{self, Format};
use workflow_runtime::{Mode, Runtime};

use crate::args::{AslCommand, AslRunArgs};
use crate::Failure;

/// Runs `command`; `store` is the store given (`--store` or `WORKFLOW_STORE`), if any.
pub(crate) async fn run(command: AslCommand, store: Option<&str>) -> Result<String, Failure> {
    match command {
        AslCommand::Validate(args) => {
            let workflow = read(&args.file)?;
            Ok(format!(
                "{}: valid, {} states\n",
                args.file.display(),
                workflow.definition().states.len()
            ))
        }
        AslCommand::Diagram(args) => {
            let workflow = read(&args.file.file)?;
            Ok(match args.format {
                // The file itself is the best ASL of it.
                Format::Asl => std::fs::read_to_string(&args.file.file).map_err(|error| {
                    Failure::NotFound(format!("{}: {error}", args.file.file.display()))
                })?,
                format => render::render(workflow.definition(), format),
            })
        }
        AslCommand::Run(args) => execute(args, store).await,
    }
}

/// The workflow of a definition file, named after the file; its problems as the failure.
fn read(file: &Path) -> Result<AslWorkflow, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| Failure::NotFound(format!("{}: {error}", file.display())))?;
    AslWorkflow::from_json_str(&machine_name(file), Mode::Standard, &text)
        .map_err(|error| Failure::Unsuccessful(format!("{}: {error}\n", file.display())))
}

/// A file's name without its extensions: `order` for `order.asl.json`.
fn machine_name(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    name.split('.').next().unwrap_or_default().to_owned()
}

async fn execute(args: AslRunArgs, store: Option<&str>) -> Result<String, Failure> {
    let workflow = read(&args.file.file)?;
    let input: Value = serde_json::from_str(&args.input)
        .map_err(|error| Failure::Usage(format!("--input is not JSON: {error}")))?;
    let handlers = match (&args.mock_config, &args.test_case) {
        (Some(config), Some(case)) => {
            let text = std::fs::read_to_string(config)
                .map_err(|error| Failure::NotFound(format!("{}: {error}", config.display())))?;
            let config: Value = serde_json::from_str(&text).map_err(|error| {
                Failure::Usage(format!("{} is not JSON: {error}", args.file.file.display()))
            })?;
            let machine = args
                .state_machine
                .clone()
                .unwrap_or_else(|| workflow.name().to_owned());
            Handlers::from_mock_config(&config, &machine, case, workflow.name())
                .map_err(Failure::Usage)?
        }
        _ => Handlers::new(),
    };
    let mut builder = Runtime::builder()
        .resource(handlers)
        .register_asl(&workflow);
    if let Some(url) = store {
        // Running into a store may create it: this is the command that fills it.
        builder = builder.store_arc(workflow_runtime::store::open(url).await?);
    }
    let runtime = builder
        .build()
        .map_err(|error| Failure::Usage(error.to_string()))?;
    let (history, result, mut text) = match store {
        None => {
            let execution = runtime
                .execute_json(workflow.name(), input)
                .await
                .map_err(|error| Failure::Usage(error.to_string()))?;
            let result = execution.result().cloned().map_err(Clone::clone);
            (execution.history().clone(), result, String::new())
        }
        Some(url) => {
            let handle = runtime
                .start_json(workflow.name(), None, input)
                .await
                .map_err(|error| Failure::Usage(error.to_string()))?;
            let result = handle
                .result()
                .await
                .map_err(|error| Failure::Usage(error.to_string()))?;
            let events = runtime
                .history(handle.id(), 0, usize::MAX)
                .await
                .map_err(|error| Failure::Usage(error.to_string()))?;
            let history = History::from(events);
            (
                history,
                result,
                format!("execution {} in {url}\n", handle.id()),
            )
        }
    };
    text.push_str(&history.table().to_string());
    match result {
        Ok(output) => {
            text.push_str(&format!("output: {output}\n"));
            Ok(text)
        }
        Err(failure) => {
            text.push_str(&format!(
                "failed: {}: {}\n",
                failure.error(),
                failure.cause()
            ));
            Err(Failure::Unsuccessful(text))
        }
    }
}
