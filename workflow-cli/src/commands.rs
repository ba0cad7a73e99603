//! What each command does against the store.

use std::sync::Arc;

use workflow_runtime::render::{self, Format};
use workflow_runtime::store::{ExecutionFilter, RequestKind, RequestStatus, Store};

use crate::args::{
    ago, deadline, CheckDeployArgs, DiagramArgs, ExecutionArgs, HistoryArgs, HistoryFormat,
    JsonArg, ListArgs, PurgeArgs, RequestArgs,
};
use crate::output::{definition_json, record_json, shown_status, table, time};
use crate::query::{definitions, find, read_history, requests};
use crate::Failure;

pub(crate) async fn list(store: &Arc<dyn Store>, args: ListArgs) -> Result<String, Failure> {
    let mut filter = ExecutionFilter::all().limit(args.limit);
    if let Some(workflow) = args.workflow {
        filter = filter.workflow(workflow);
    }
    if let Some(status) = args.status {
        filter = filter.status(status);
    }
    if let Some(since) = args.since {
        // Checked when parsed too; the clock has only moved on since, so this holds.
        let after = ago(since).map_err(Failure::Usage)?;
        let before = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
        filter = filter.started_between(after, before);
    }
    let records = store.list(filter).await?;
    if args.json.json {
        let all: Vec<_> = records.iter().map(record_json).collect();
        return Ok(serde_json::to_string_pretty(&all)? + "\n");
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|record| {
            vec![
                record.id.to_string(),
                record.workflow.clone(),
                record.version.to_string(),
                record.name.clone(),
                shown_status(record).to_owned(),
                time(record.started_at),
                record.stopped_at.map(time).unwrap_or_default(),
                // What is wrong with an unreadable record, where an error would be.
                record
                    .unreadable
                    .clone()
                    .or_else(|| record.error.clone())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    if rows.is_empty() {
        return Ok("no executions\n".to_owned());
    }
    Ok(table(
        &[
            "ID", "WORKFLOW", "VERSION", "NAME", "STATUS", "STARTED", "STOPPED", "ERROR",
        ],
        &rows,
    ))
}

pub(crate) async fn describe(
    store: &Arc<dyn Store>,
    args: ExecutionArgs,
) -> Result<String, Failure> {
    let record = find(store, &args.execution, args.workflow.as_deref()).await?;
    if args.json.json {
        return Ok(serde_json::to_string_pretty(&record_json(&record))? + "\n");
    }
    let mut text = String::new();
    let mut line = |label: &str, value: String| text.push_str(&format!("{label:<11}{value}\n"));
    line("id", record.id.to_string());
    line("workflow", record.workflow.clone());
    line("version", record.version.to_string());
    line("name", record.name.clone());
    line("status", shown_status(&record).to_owned());
    if let Some(reason) = &record.unreadable {
        line("unreadable", reason.clone());
    }
    line("started", time(record.started_at));
    if let Some(stopped) = record.stopped_at {
        line("stopped", time(stopped));
    }
    line("input", record.input.to_string());
    if let Some(output) = &record.output {
        line("output", output.to_string());
    }
    if let Some(state) = &record.failed_state {
        line("failed in", state.clone());
    }
    if let Some(error) = &record.error {
        line("error", error.clone());
    }
    if let Some(cause) = &record.cause {
        line("cause", cause.clone());
    }
    Ok(text)
}

pub(crate) async fn history(store: &Arc<dyn Store>, args: HistoryArgs) -> Result<String, Failure> {
    let record = find(store, &args.execution, args.workflow.as_deref()).await?;
    let history = read_history(store, &record.id).await?;
    Ok(match args.format() {
        HistoryFormat::Table => history.table().to_string(),
        HistoryFormat::Json => serde_json::to_string_pretty(&history)? + "\n",
        HistoryFormat::Aws => serde_json::to_string_pretty(&history.to_aws_json())? + "\n",
    })
}

pub(crate) async fn workflows(store: &Arc<dyn Store>, args: JsonArg) -> Result<String, Failure> {
    let definitions = definitions(store)?.latest_definitions().await?;
    if args.json {
        let all: Vec<_> = definitions.iter().map(definition_json).collect();
        return Ok(serde_json::to_string_pretty(&all)? + "\n");
    }
    if definitions.is_empty() {
        return Ok("no recorded workflows (a runtime records its workflows when it first starts or recovers an execution)\n".to_owned());
    }
    let rows: Vec<Vec<String>> = definitions
        .iter()
        .map(|definition| {
            vec![
                definition.workflow.clone(),
                definition.definition.version.to_string(),
                format!("{:?}", definition.definition.mode),
                definition.definition.states.len().to_string(),
                time(definition.registered_at),
                definition.fingerprint.clone(),
            ]
        })
        .collect();
    Ok(table(
        &[
            "WORKFLOW",
            "VERSION",
            "MODE",
            "STATES",
            "REGISTERED",
            "FINGERPRINT",
        ],
        &rows,
    ))
}

pub(crate) async fn diagram(store: &Arc<dyn Store>, args: DiagramArgs) -> Result<String, Failure> {
    if let Some(workflow) = args.workflow {
        let definitions = definitions(store)?.latest_definitions().await?;
        let Some(found) = definitions.iter().find(|d| d.workflow == workflow) else {
            let known: Vec<&str> = definitions.iter().map(|d| d.workflow.as_str()).collect();
            return Err(Failure::NotFound(format!(
                "no recorded workflow `{workflow}` (recorded: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        return Ok(render::render(&found.definition, args.format));
    }
    let execution = args.execution.unwrap_or_default();
    let record = find(store, &execution, None).await?;
    let Some(found) = definitions(store)?
        .definition(&record.workflow, &record.fingerprint)
        .await?
    else {
        return Err(Failure::NotFound(format!(
            "the definition execution `{}` ran with ({} {}) is not recorded",
            record.id, record.workflow, record.fingerprint
        )));
    };
    let statuses = read_history(store, &record.id).await?.statuses();
    match args.format {
        Format::Svg => Ok(render::svg_execution(&found.definition, &statuses)),
        Format::Mermaid => Ok(render::mermaid_execution(&found.definition, &statuses)),
        Format::Dot => Ok(render::dot_execution(&found.definition, &statuses)),
        Format::Asl => Err(Failure::Usage(
            "ASL describes a workflow, not an execution: use --workflow".to_owned(),
        )),
    }
}

/// Leaves a stop or redrive request for a runtime with the workflow, and optionally waits.
pub(crate) async fn request(
    store: &Arc<dyn Store>,
    args: RequestArgs,
    kind: RequestKind,
) -> Result<String, Failure> {
    // Before the request is left: a wait the clock cannot count must not leave one behind.
    let deadline = args
        .wait
        .map(deadline)
        .transpose()
        .map_err(Failure::Usage)?;
    let record = find(store, &args.execution, args.workflow.as_deref()).await?;
    let verb = kind_name(&kind);
    let requests = requests(store)?;
    let id = requests
        .request(
            &record.id,
            &record.workflow,
            kind,
            std::time::SystemTime::now(),
        )
        .await?;
    let (Some(wait), Some(deadline)) = (args.wait, deadline) else {
        return Ok(format!(
            "{verb} of {} requested (request {id}): a runtime serving workflow {} carries it out\n",
            record.name, record.workflow
        ));
    };
    loop {
        let status = requests
            .request_of(id)
            .await?
            .map(|request| request.status)
            .unwrap_or(RequestStatus::Pending);
        match status {
            RequestStatus::Done => return Ok(format!("{verb} of {}: done\n", record.name)),
            RequestStatus::Failed(why) => {
                return Err(Failure::Usage(format!("{verb} of {}: {why}", record.name)))
            }
            _ if std::time::Instant::now() >= deadline => {
                return Err(Failure::NotFound(format!(
                    "{verb} of {} (request {id}) was not carried out within {}: is a runtime with workflow {} serving?",
                    record.name,
                    humantime::format_duration(wait),
                    record.workflow
                )))
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

pub(crate) fn kind_name(kind: &RequestKind) -> &'static str {
    match kind {
        RequestKind::Stop { .. } => "stop",
        RequestKind::Redrive => "redrive",
    }
}

/// Executions purged per transaction.
const PURGE_BATCH: usize = 1000;

/// Checks the store's running executions against a binary's exported definitions.
pub(crate) async fn check_deploy(
    store: &Arc<dyn Store>,
    args: CheckDeployArgs,
) -> Result<String, Failure> {
    let path = args.definitions.display().to_string();
    let text = std::fs::read_to_string(&args.definitions)
        .map_err(|error| Failure::NotFound(format!("cannot read `{path}`: {error}")))?;
    let definitions: Vec<workflow_runtime::Definition> =
        serde_json::from_str(&text).map_err(|error| {
            Failure::Usage(format!(
                "`{path}` is not a list of definitions as `Runtime::export_definitions` writes them: {error}"
            ))
        })?;
    let definitions: Vec<&workflow_runtime::Definition> = definitions.iter().collect();
    let check = workflow_runtime::DeployCheck::run(store.as_ref(), &definitions).await?;
    match check.ok() {
        true => Ok(check.to_string()),
        false => Err(Failure::Unsuccessful(check.to_string())),
    }
}

pub(crate) async fn purge(store: &Arc<dyn Store>, args: PurgeArgs) -> Result<String, Failure> {
    // Checked before anything is deleted (and when parsed).
    let before = ago(args.older_than).map_err(Failure::Usage)?;
    let mut purged = 0;
    loop {
        let batch = store.purge_batch(before, PURGE_BATCH).await?;
        purged += batch;
        if batch < PURGE_BATCH {
            break;
        }
        // Progress on stderr, so that stdout stays the result alone.
        eprintln!("purged {purged} so far...");
    }
    Ok(format!(
        "purged {purged} execution{} that ended before {}\n",
        if purged == 1 { "" } else { "s" },
        time(before)
    ))
}
