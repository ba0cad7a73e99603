//! A web service that runs workflows: axum in front, durable executions on a SQLite file
//! behind, and a graceful shutdown that lets running executions finish.
//!
//! ```text
//! cargo run --example service                       # listens on 127.0.0.1:3000 (PORT to change)
//! curl -d '{"id":"A-1","items":3}' -H 'content-type: application/json' localhost:3000/orders
//! curl localhost:3000/executions/<id>               # the stored execution, as JSON
//! ```
//!
//! Ctrl-C (or SIGTERM) stops accepting requests, as axum's `with_graceful_shutdown` does, and
//! drains the runtime (`Runtime::drain`): executions under way get up to 10 seconds to
//! finish; those that do not are handed over, their leases given back, and the next start of
//! the service resumes them (`Runtime::recover`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::ExecutionRecord;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: String,
    items: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Shipped {
    order: String,
    parcels: u32,
}

/// Puts the order's items aside; takes a moment, as a call to a warehouse would.
#[step(timeout = "30s")]
async fn reserve(order: Order) -> Order {
    tokio::time::sleep(Duration::from_millis(300)).await;
    order
}

/// Ships the order, three items to a parcel.
#[step]
async fn ship(order: Order) -> Shipped {
    Shipped {
        parcels: order.items.div_ceil(3),
        order: order.id,
    }
}

workflow! {
    /// Reserves and ships an order.
    Fulfil: Standard<Order, Shipped> {
        start Reserve;
        Reserve: task reserve -> Ship;
        Ship: task ship -> end;
    }
}

/// `POST /orders`: starts the order's execution, named after the order (a second request
/// for the same order returns the same execution).
async fn start_order(
    State(runtime): State<Runtime>,
    Json(order): Json<Order>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let name = order.id.clone();
    match runtime.start_named::<Fulfil>(&name, order).await {
        Ok(handle) => Ok(Json(serde_json::json!({ "execution": handle.id() }))),
        Err(error @ RuntimeError::InvalidInput { .. }) => {
            Err((StatusCode::UNPROCESSABLE_ENTITY, error.to_string()))
        }
        Err(error @ RuntimeError::ExecutionAlreadyExists { .. }) => {
            Err((StatusCode::CONFLICT, error.to_string()))
        }
        Err(error) => Err((StatusCode::SERVICE_UNAVAILABLE, error.to_string())),
    }
}

/// `GET /executions/{id}`: the stored execution.
async fn execution(
    State(runtime): State<Runtime>,
    Path(id): Path<ExecutionId>,
) -> Result<Json<ExecutionRecord>, (StatusCode, String)> {
    match runtime.describe(&id).await {
        Ok(record) => Ok(Json(record)),
        Err(error @ RuntimeError::NoSuchExecution { .. }) => {
            Err((StatusCode::NOT_FOUND, error.to_string()))
        }
        Err(error) => Err((StatusCode::SERVICE_UNAVAILABLE, error.to_string())),
    }
}

/// Ctrl-C or SIGTERM.
async fn stop_requested() {
    let terminate = async {
        #[cfg(unix)]
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            term.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = std::env::var("SERVICE_DB").unwrap_or_else(|_| "service.db".to_owned());
    let runtime = Runtime::builder()
        .store(SqliteStore::open(&database)?)
        .register::<Fulfil>()
        .build()?;
    // What a previous run handed over, or left when it was killed, goes on here.
    let recovered = runtime.recover().await?;
    if !recovered.resumed.is_empty() {
        println!("resumed {} execution(s)", recovered.resumed.len());
    }

    let app = Router::new()
        .route("/orders", post(start_order))
        .route("/executions/{id}", get(execution))
        .with_state(runtime.clone());
    let port: u16 = std::env::var("PORT").map_or(Ok(3000), |port| port.parse())?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on http://{}", listener.local_addr()?);

    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop_requested().await;
            println!("stopping: no new requests; draining executions");
            let drained = runtime.drain(Duration::from_secs(10)).await;
            println!(
                "drained: {} finished, {} handed over",
                drained.finished.len(),
                drained.handed_over.len()
            );
        })
        .await?;
    Ok(())
}
