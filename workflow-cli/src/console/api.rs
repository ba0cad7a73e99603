//! The JSON API behind the pages, for the CLI and scripts.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::{list_page, ExecutionsQuery};
use super::{status_of, Console};
use crate::output::{definition_json, record_json};
use crate::query::{definitions, find, read_history};
use crate::Failure;

/// A failure as JSON: `{"error": "..."}` with its status.
pub(super) struct ApiError(Failure);

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        ApiError(failure)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            status_of(&self.0),
            Json(json!({ "error": self.0.to_string() })),
        )
            .into_response()
    }
}

pub(super) async fn workflows(State(console): State<Console>) -> Result<Json<Value>, ApiError> {
    let definitions = definitions(&console.store)?
        .latest_definitions()
        .await
        .map_err(Failure::from)?;
    Ok(Json(Value::Array(
        definitions.iter().map(definition_json).collect(),
    )))
}

pub(super) async fn executions(
    State(console): State<Console>,
    Query(query): Query<ExecutionsQuery>,
) -> Result<Json<Value>, ApiError> {
    let (records, more) = list_page(&console, &query).await?;
    Ok(Json(json!({
        "page": query.page.unwrap_or(0),
        "more": more,
        "executions": records.iter().map(record_json).collect::<Vec<_>>(),
    })))
}

pub(super) async fn execution(
    State(console): State<Console>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&console.store, &id, None).await?;
    Ok(Json(record_json(&record)))
}

pub(super) async fn request(
    State(console): State<Console>,
    Path((id, action)): Path<(String, String)>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let request = super::ask(&console, &id, &action).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(json!({ "request": request, "status": "pending" })),
    ))
}

/// How a history is given: `json` (the default) as stored, `aws` in the shape of Step
/// Functions' GetExecutionHistory.
#[derive(Debug, Default, Deserialize)]
pub(super) struct HistoryQuery {
    format: Option<String>,
}

pub(super) async fn history(
    State(console): State<Console>,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    // An unknown format is refused before the store is read.
    let aws = match query.format.as_deref() {
        None | Some("json") => false,
        Some("aws") => true,
        Some(other) => {
            return Err(Failure::Usage(format!("no history format `{other}`: json or aws")).into())
        }
    };
    let record = find(&console.store, &id, None).await?;
    let history = read_history(&console.store, &record.id).await?;
    if aws {
        return Ok(Json(history.to_aws_json()));
    }
    Ok(Json(serde_json::to_value(&history).map_err(Failure::from)?))
}
