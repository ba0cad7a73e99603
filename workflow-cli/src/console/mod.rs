//! `workflow serve`: a web console over a store. Server-rendered HTML that needs nothing from
//! the network (styles inline, diagrams as inline SVG), and the JSON API behind it.
//!
//! Security: it binds 127.0.0.1 unless told otherwise, and binding to any other address
//! needs a bearer token, which every request must then carry (`Authorization: Bearer ...`, or
//! the cookie that opening `/?token=...` in a browser sets). Without a token it only reads.
//! Every request must be addressed (`Host`) to the bound address or a name given with
//! `--allow-host`, which defeats DNS rebinding; stop and redrive must come from the console's
//! own origin and carry JSON, which defeats forms and scripts of other pages (`origin.rs`).
//! Every payload is escaped.

mod api;
mod auth;
mod origin;
mod pages;

pub(crate) use origin::{parse_allowed, Hosts};

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use workflow_runtime::store::{RequestKind, Store};

use crate::query::{find, requests};
use crate::Failure;

/// What every handler reads.
#[derive(Clone)]
pub(crate) struct Console {
    store: Arc<dyn Store>,
    /// Whether stop and redrive may be asked (only with a token).
    writable: bool,
}

/// The console's routes, answering requests for `hosts`; with `token`, every request must
/// carry it, and stop and redrive may be asked.
pub(crate) fn router(store: Arc<dyn Store>, hosts: Hosts, token: Option<String>) -> Router {
    let routes = Router::new()
        .route("/", get(pages::workflows))
        .route("/executions", get(pages::executions))
        .route("/executions/{id}", get(pages::execution))
        .route("/api/workflows", get(api::workflows))
        .route("/api/executions", get(api::executions))
        .route("/api/executions/{id}", get(api::execution))
        .route("/api/executions/{id}/history", get(api::history))
        // The pages' Stop and Redrive buttons post here too (JSON, from the page's origin).
        .route("/api/executions/{id}/{action}", post(api::request))
        .with_state(Console {
            store,
            writable: token.is_some(),
        });
    // The host and origin checks wrap the token's: a forged request is refused as such.
    origin::guard(auth::guard(routes, token), hosts)
}

/// Serves the console on `bind` until Ctrl-C, answering to the bound address and the
/// `allowed` host names.
pub(crate) async fn serve(
    store: Arc<dyn Store>,
    bind: SocketAddr,
    token: Option<String>,
    allowed: &[String],
) -> Result<String, Failure> {
    if !bind.ip().is_loopback() && token.is_none() {
        return Err(Failure::Usage(format!(
            "the console would be reachable from other machines on {bind}: give a token (--token or WORKFLOW_CONSOLE_TOKEN) that every request must carry"
        )));
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|error| Failure::Usage(format!("cannot listen on {bind}: {error}")))?;
    let address = listener
        .local_addr()
        .map_err(|error| Failure::Usage(format!("cannot listen on {bind}: {error}")))?;
    // The port bound, not the one asked for (`:0`), is the one browsers name.
    let hosts = Hosts::new(address, allowed).map_err(Failure::Usage)?;
    println!("console on http://{address}/ (Ctrl-C stops it)");
    axum::serve(listener, router(store, hosts, token))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|error| Failure::Usage(format!("the console stopped: {error}")))?;
    Ok(String::new())
}

/// Leaves the stop or redrive request `action` names for execution `id`; its request id.
async fn ask(console: &Console, id: &str, action: &str) -> Result<i64, Failure> {
    if !console.writable {
        return Err(Failure::ReadOnly);
    }
    let kind = match action {
        "stop" => RequestKind::Stop {
            error: Some("Console.Stopped".to_owned()),
            cause: Some("stopped from the console".to_owned()),
        },
        "redrive" => RequestKind::Redrive,
        other => {
            return Err(Failure::NotFound(format!(
                "no action `{other}`: stop or redrive"
            )))
        }
    };
    let record = find(&console.store, id, None).await?;
    Ok(requests(&console.store)?
        .request(
            &record.id,
            &record.workflow,
            kind,
            std::time::SystemTime::now(),
        )
        .await?)
}

/// A failure as the console answers it.
pub(crate) fn status_of(failure: &Failure) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match failure {
        Failure::NotFound(_) => StatusCode::NOT_FOUND,
        Failure::Usage(_) | Failure::Unsuccessful(_) => StatusCode::BAD_REQUEST,
        Failure::ReadOnly => StatusCode::FORBIDDEN,
        Failure::Store(_) | Failure::Json(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests;
