//! The console's HTML pages (maud escapes every value; only our own SVG is inserted as is).

use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use workflow_runtime::render;
use workflow_runtime::store::{ExecutionFilter, ExecutionRecord, StoreError};
use workflow_runtime::{Event, ExecutionStatus, History};

use super::{status_of, Console};
use crate::args::parse_status;
use crate::output::{shown_status, time};
use crate::query::{definitions, find, read_history};
use crate::Failure;

/// Executions per page.
const PER_PAGE: usize = 50;

/// Which executions a list shows.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExecutionsQuery {
    pub(crate) workflow: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) page: Option<usize>,
}

/// A page of executions for `query`, and whether more follow.
pub(super) async fn list_page(
    console: &Console,
    query: &ExecutionsQuery,
) -> Result<(Vec<ExecutionRecord>, bool), Failure> {
    let page = query.page.unwrap_or(0);
    // Rows up to the end of the page, and one more to tell whether more follow; a count the
    // stores take as an SQL integer.
    let end = page
        .checked_add(1)
        .and_then(|pages| pages.checked_mul(PER_PAGE))
        .filter(|end| i64::try_from(*end).is_ok_and(|end| end < i64::MAX))
        .ok_or_else(|| {
            Failure::Usage(format!(
                "page {page} is out of range: pages are numbered from 0, {PER_PAGE} executions each"
            ))
        })?;
    let mut filter = ExecutionFilter::all().limit(end + 1);
    if let Some(workflow) = query.workflow.as_deref().filter(|w| !w.is_empty()) {
        filter = filter.workflow(workflow);
    }
    if let Some(text) = query.status.as_deref().filter(|s| !s.is_empty()) {
        filter = filter.status(parse_status(text).map_err(Failure::Usage)?);
    }
    let mut records = console.store.list(filter).await?;
    let more = records.len() > end;
    records.truncate(end);
    let records = records.split_off((end - PER_PAGE).min(records.len()));
    Ok((records, more))
}

/// A failure as a page.
pub(super) struct PageError(Failure);

impl From<Failure> for PageError {
    fn from(failure: Failure) -> Self {
        PageError(failure)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = layout(
            "Error",
            false,
            html! { p.error { (self.0.to_string()) } p { a href="/" { "Workflows" } } },
        );
        (status_of(&self.0), body).into_response()
    }
}

pub(super) async fn workflows(State(console): State<Console>) -> Result<Markup, PageError> {
    let definitions = definitions(&console.store)?
        .latest_definitions()
        .await
        .map_err(Failure::from)?;
    Ok(layout(
        "Workflows",
        false,
        html! {
            @if definitions.is_empty() {
                p { "No recorded workflows yet: a runtime records its workflows when it first starts or recovers an execution." }
            }
            @for definition in &definitions {
                section.workflow {
                    h2 { (definition.workflow) }
                    p.meta {
                        (format!("{:?}", definition.definition.mode)) " · "
                        (definition.definition.states.len()) " states · registered "
                        (time(definition.registered_at)) " · "
                        a href=(format!("/executions?workflow={}", encode(&definition.workflow))) { "executions" }
                    }
                    div.diagram { (PreEscaped(render::svg(&definition.definition))) }
                }
            }
        },
    ))
}

pub(super) async fn executions(
    State(console): State<Console>,
    Query(query): Query<ExecutionsQuery>,
) -> Result<Markup, PageError> {
    let (records, more) = list_page(&console, &query).await?;
    let page = query.page.unwrap_or(0);
    let workflow = query.workflow.clone().unwrap_or_default();
    let chosen = query.status.clone().unwrap_or_default();
    let link = |status: &str, page: usize| {
        format!(
            "/executions?workflow={}&status={}&page={page}",
            encode(&workflow),
            encode(status)
        )
    };
    Ok(layout(
        "Executions",
        false,
        html! {
            nav.filters {
                @for status in ["", "running", "succeeded", "failed", "timed-out", "aborted", "unknown"] {
                    a class=@if status == chosen { "chosen" } href=(link(status, 0)) {
                        @if status.is_empty() { "all" } @else { (status) }
                    }
                }
                @if !workflow.is_empty() { span.meta { "workflow " (workflow) } }
            }
            @if records.is_empty() {
                p { "No executions." }
            } @else {
                table.executions {
                    thead { tr { th { "Name" } th { "Workflow" } th { "Status" } th { "Started" } th { "Stopped" } th { "Error" } } }
                    tbody {
                        @for record in &records {
                            tr {
                                td { a href=(format!("/executions/{}", encode(&record.id.to_string()))) { (record.name) } }
                                td { (record.workflow) }
                                td { span class=(format!("status {}", shown_status(record))) { (shown_status(record)) } }
                                td { (time(record.started_at)) }
                                td { (record.stopped_at.map(time).unwrap_or_default()) }
                                td { (record.unreadable.clone().or_else(|| record.error.clone()).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
            nav.paging {
                @if page > 0 { a href=(link(&chosen, page - 1)) { "← newer" } }
                @if more { a href=(link(&chosen, page + 1)) { "older →" } }
            }
        },
    ))
}

/// What the execution page was sent back with, after a stop or redrive was asked.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Asked {
    asked: Option<String>,
}

pub(super) async fn execution(
    State(console): State<Console>,
    Path(id): Path<String>,
    Query(asked): Query<Asked>,
) -> Result<Markup, PageError> {
    let record = find(&console.store, &id, None).await?;
    // One execution's unreadable history is said on its page, not a failed page.
    let (history, unreadable_history) = match read_history(&console.store, &record.id).await {
        Ok(history) => (history, None),
        Err(Failure::Store(StoreError::Corrupt { reason, .. })) => {
            (History::default(), Some(reason))
        }
        Err(other) => return Err(other.into()),
    };
    let definition = definitions(&console.store)?
        .definition(&record.workflow, &record.fingerprint)
        .await
        .map_err(Failure::from)?;
    let running = record.status == ExecutionStatus::Running;
    let started = history
        .events()
        .first()
        .map_or(record.started_at, |e| e.timestamp);
    Ok(layout(
        &format!("{} · {}", record.name, record.workflow),
        running,
        html! {
            p.meta {
                span class=(format!("status {}", shown_status(&record))) { (shown_status(&record)) }
                " · version " (record.version)
                " · started " (time(record.started_at))
                @if let Some(stopped) = record.stopped_at { " · stopped " (time(stopped)) }
                " · id " code { (record.id.to_string()) }
            }
            @if let Some(reason) = &record.unreadable {
                p.error { strong { "Its stored data does not read" } ": " (reason) }
            }
            @if let Some(reason) = &unreadable_history {
                p.error { strong { "Its stored history does not read" } ": " (reason) }
            }
            @if let Some(error) = &record.error {
                p.error {
                    @if let Some(state) = &record.failed_state { "In state " strong { (state) } ": " }
                    strong { (error) } @if let Some(cause) = &record.cause { ": " (cause) }
                }
            }
            @if let Some(action) = asked.asked.as_deref().filter(|a| *a == "stop" || *a == "redrive") {
                p.meta { (action) " requested: a runtime serving workflow " (record.workflow) " carries it out." }
            }
            @if console.writable {
                @let id = encode(&record.id.to_string());
                div.actions {
                    @if running {
                        button type="button" data-action=(format!("/api/executions/{id}/stop")) data-done=(format!("/executions/{id}?asked=stop")) { "Stop" }
                    }
                    @if matches!(record.status, ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted) {
                        button type="button" data-action=(format!("/api/executions/{id}/redrive")) data-done=(format!("/executions/{id}?asked=redrive")) { "Redrive" }
                    }
                    p.error.refused hidden {}
                }
                script { (PreEscaped(ACTIONS)) }
            }
            @match &definition {
                Some(found) => div.diagram { (PreEscaped(render::svg_execution(&found.definition, &history.statuses()))) },
                None => p.meta { "The definition this execution ran with is not recorded: no diagram." },
            }
            details { summary { "Input" } pre { (pretty(Some(&record.input))) } }
            @if let Some(output) = &record.output {
                details { summary { "Output" } pre { (pretty(Some(output))) } }
            }
            h2 { "History" }
            p.meta {
                a href=(format!("/api/executions/{}/history?format=aws", encode(&record.id.to_string()))) {
                    "As Step Functions' GetExecutionHistory JSON"
                }
            }
            table.events {
                thead { tr { th { "ID" } th { "Type" } th { "State" } th { "Timestamp" } th { "Elapsed" } th { "Details" } } }
                tbody {
                    @for event in history.events() {
                        tr class=(if event.error.is_some() { "failed" } else { "" }) {
                            td { (event.id) }
                            td { (event.kind.name()) }
                            td { (event.state.as_deref().unwrap_or_default()) @if let Some(branch) = &event.branch { span.meta { " [" (branch) "]" } } }
                            td { (time(event.timestamp)) }
                            td { (elapsed(started, event.timestamp)) }
                            td { (details(event)) }
                        }
                    }
                }
            }
        },
    ))
}

/// The Stop and Redrive buttons: each posts JSON to the API (a form cannot: the console takes
/// changes as JSON from its own origin only), then shows the page saying what was asked, or
/// the console's refusal.
const ACTIONS: &str = "
for (const button of document.querySelectorAll('button[data-action]')) {
  button.addEventListener('click', async () => {
    const refused = document.querySelector('.actions .refused');
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.action, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      if (response.ok) {
        location.assign(button.dataset.done);
        return;
      }
      const text = await response.text();
      let message = text;
      try { message = JSON.parse(text).error || text; } catch (_) {}
      refused.textContent = message;
    } catch (error) {
      refused.textContent = 'the console did not answer: ' + error;
    }
    refused.hidden = false;
    button.disabled = false;
  });
}
";

/// An event's payloads and error, folded.
fn details(event: &Event) -> Markup {
    html! {
        @if let Some(error) = &event.error {
            details open { summary { "error " (error) } pre { (event.cause.clone().unwrap_or_default()) } }
        }
        @if event.input.is_some() { details { summary { "input" } pre { (pretty(event.input.as_ref())) } } }
        @if event.output.is_some() { details { summary { "output" } pre { (pretty(event.output.as_ref())) } } }
        @if let Some(attempt) = event.attempt { span.meta { "attempt " (attempt) } }
    }
}

fn pretty(value: Option<&serde_json::Value>) -> String {
    value
        .map(|value| serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()))
        .unwrap_or_default()
}

fn elapsed(start: SystemTime, at: SystemTime) -> String {
    let elapsed = at.duration_since(start).unwrap_or_default();
    if elapsed.as_secs() < 60 {
        format!("{:.3} s", elapsed.as_secs_f64())
    } else {
        humantime::format_duration(std::time::Duration::from_secs(elapsed.as_secs())).to_string()
    }
}

/// A query value, percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Every page: title, navigation, style; `refresh` reloads it every 2 s (a running execution).
fn layout(title: &str, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                @if refresh { meta http-equiv="refresh" content="2"; }
                title { (title) " · workflow console" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { a href="/" { "Workflows" } " " a href="/executions" { "Executions" } }
                h1 { (title) }
                (body)
            }
        }
    }
}

const STYLE: &str = "
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 2rem 2rem; color: #1f2328; }
header { padding: .8rem 0; border-bottom: 1px solid #d0d7de; margin-bottom: 1rem; }
header a { margin-right: 1.2rem; font-weight: 600; }
a { color: #0969da; text-decoration: none; }
.meta { color: #57606a; }
.error { color: #b42318; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
tr.failed td { background: #fff1f0; }
.status { padding: .05rem .45rem; border-radius: .6rem; font-size: 12px; background: #eaeef2; }
.status.succeeded { background: #dafbe1; } .status.failed, .status.timed-out, .status.aborted, .status.unreadable { background: #ffebe9; }
.status.running { background: #ddf4ff; }
.filters a { margin-right: .8rem; } .filters a.chosen { font-weight: 700; text-decoration: underline; }
.paging a { margin-right: 1rem; }
.actions button { margin: 0 .6rem .6rem 0; }
.diagram svg { max-width: 100%; height: auto; }
pre { margin: .2rem 0; white-space: pre-wrap; word-break: break-all; max-width: 60rem; }
section.workflow { margin-bottom: 2rem; }
";
