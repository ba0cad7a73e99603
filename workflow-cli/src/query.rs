//! Reads shared by the commands and the console.

use std::sync::Arc;

use workflow_runtime::store::{Definitions, ExecutionFilter, ExecutionRecord, Requests, Store};
use workflow_runtime::{ExecutionId, History};

use crate::Failure;

/// The execution with this id, else the one with this name (in `workflow`, if given).
pub(crate) async fn find(
    store: &Arc<dyn Store>,
    execution: &str,
    workflow: Option<&str>,
) -> Result<ExecutionRecord, Failure> {
    if let Some(record) = store.execution(&ExecutionId::from(execution)).await? {
        return Ok(record);
    }
    let mut filter = ExecutionFilter::all().name(execution);
    if let Some(workflow) = workflow {
        filter = filter.workflow(workflow);
    }
    let mut found = store.list(filter).await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Failure::NotFound(format!(
            "no execution with the id or name `{execution}`"
        ))),
        _ => {
            let workflows: Vec<&str> = found.iter().map(|r| r.workflow.as_str()).collect();
            Err(Failure::Usage(format!(
                "executions named `{execution}` exist in several workflows ({}): add --workflow",
                workflows.join(", ")
            )))
        }
    }
}

/// An execution's whole history.
pub(crate) async fn read_history(
    store: &Arc<dyn Store>,
    id: &ExecutionId,
) -> Result<History, Failure> {
    Ok(History::from(store.full_history(id).await?))
}

/// The store's record of workflow definitions; a store that keeps none is refused.
pub(crate) fn definitions(store: &Arc<dyn Store>) -> Result<&dyn Definitions, Failure> {
    store.definitions().ok_or_else(|| {
        Failure::Usage(
            "this store keeps no workflow definitions: there are none to list or draw".to_owned(),
        )
    })
}

/// The store's requests to stop or redrive; a store that takes none is refused.
pub(crate) fn requests(store: &Arc<dyn Store>) -> Result<&dyn Requests, Failure> {
    store.requests().ok_or_else(|| {
        Failure::Usage(
            "this store takes no requests: stop and redrive need a store that keeps them (SQLite or PostgreSQL)"
                .to_owned(),
        )
    })
}
