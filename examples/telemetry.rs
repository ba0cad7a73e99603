//! A workflow's tracing spans exported through OpenTelemetry, and its metrics through the
//! `metrics` facade, as a service would wire them.
//!
//! Spans: `tracing-opentelemetry` turns the runtime's spans (`workflow.execution`,
//! `workflow.state`, `workflow.task.attempt`) and the steps' own events into OpenTelemetry
//! spans, printed here by `opentelemetry-stdout`; for a collector, put
//! `opentelemetry-otlp`'s exporter in its place. Metrics: the `metrics` feature sends the
//! runtime's counters and histograms to the installed recorder, here Prometheus's (rendered
//! as its text format at the end; a service would serve it on `/metrics`).
//!
//! ```text
//! cargo run --example telemetry --features metrics
//! ```

use std::sync::atomic::{AtomicU32, Ordering};

use metrics_exporter_prometheus::PrometheusBuilder;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use workflow::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum CarrierError {
    #[error("the carrier did not answer")]
    Busy,
}

/// Answers busy once, then books.
#[derive(Default)]
struct Carrier(AtomicU32);

#[step]
async fn pick(order: u32) -> u32 {
    tracing::info!(order, "picked");
    order
}

#[step]
async fn book(order: u32, carrier: Res<Carrier>) -> Result<u32, CarrierError> {
    if carrier.0.fetch_add(1, Ordering::SeqCst) == 0 {
        tracing::warn!(order, "carrier busy");
        return Err(CarrierError::Busy);
    }
    tracing::info!(order, "booked");
    Ok(order)
}

workflow! {
    /// Picks the order while booking a carrier (retried once it is busy).
    Dispatch: Standard<u32, (u32, u32)> {
        start Prepare;
        Prepare: parallel {
            branch { start Pick; Pick: task pick -> end; }
            branch {
                start Book;
                Book: task book -> end, retry CarrierError::Busy { interval: 1s, max_attempts: 2 };
            }
        } -> end;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("dispatch")))
        .init();
    let prometheus = PrometheusBuilder::new().install_recorder()?;

    let dir = tempfile::tempdir()?;
    let runtime = Runtime::builder()
        .store(SqliteStore::open(dir.path().join("dispatch.db"))?)
        .resource(Carrier::default())
        .register::<Dispatch>()
        .build()?;
    let handle = runtime.start::<Dispatch>(42).await?;
    let output = handle.result().await??;
    println!("dispatched: {output:?}");

    provider.shutdown()?;
    println!("{}", prometheus.render());
    Ok(())
}
