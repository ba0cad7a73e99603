//! A burst of events through an Express workflow: synchronously, for request/response (the
//! caller awaits each result), and asynchronously, fire-and-forget (each start returns once
//! the event is durably accepted; results go to the log). Prints the throughput of both.
//!
//! Failures are logged as JSON lines, one file a day, the way an application routes the
//! runtime's `workflow::express` events: `tracing-subscriber`'s JSON layer over a
//! `tracing-appender` writer that writes from a thread of its own.
//!
//! ```text
//! cargo run --release --example events
//! ```

use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;
use workflow::prelude::*;
use workflow::render;
use workflow::store::SqliteStore;
use workflow::{Backpressure, LogLevel, Logging};

/// A click, a page view, a purchase...
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RawEvent {
    id: u64,
    kind: String,
    amount_cents: Option<u64>,
}

/// An event worth keeping.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Scored {
    id: u64,
    kind: String,
    score: u32,
}

#[derive(Debug, thiserror::Error, StepError)]
enum EventError {
    #[error("event {0} has no kind")]
    Untyped(u64),
}

/// Refuses events without a kind.
#[step]
async fn parse(event: RawEvent) -> Result<RawEvent, EventError> {
    if event.kind.is_empty() {
        return Err(EventError::Untyped(event.id));
    }
    Ok(event)
}

/// Scores purchases by amount.
#[step]
async fn score_purchase(event: RawEvent) -> Scored {
    Scored {
        id: event.id,
        score: u32::try_from(event.amount_cents.unwrap_or(0) / 100).unwrap_or(u32::MAX),
        kind: event.kind,
    }
}

/// Everything else scores 1.
#[step]
async fn score_other(event: RawEvent) -> Scored {
    Scored {
        id: event.id,
        kind: event.kind,
        score: 1,
    }
}

workflow! {
    /// Parses and scores one event.
    ScoreEvent: Express<RawEvent, Scored> {
        start Parse;
        Parse: task parse -> Route;
        Route: choice {
            |event: &RawEvent| event.kind == "purchase" => Purchase,
            _ => Other,
        };
        Purchase: task score_purchase -> end;
        Other: task score_other -> end;
    }
}

fn event(id: u64) -> RawEvent {
    let kind = match id % 10 {
        0 => "purchase",
        1..=4 => "click",
        9 if id % 1000 == 999 => "",
        _ => "view",
    };
    RawEvent {
        id,
        kind: kind.to_owned(),
        amount_cents: (kind == "purchase").then_some(1_000 + id % 5_000),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
    if render::print_if_requested(ScoreEvent::definition())? {
        return Ok(());
    }
    let dir = std::env::temp_dir().join("workflow-events");
    std::fs::create_dir_all(&dir)?;
    let intake = dir.join(format!("intake-{}.db", std::process::id()));
    // The log: `workflow-events/failures.jsonl.YYYY-MM-DD`, flushed when `_flush` drops.
    let (log, _flush) =
        tracing_appender::non_blocking(tracing_appender::rolling::daily(&dir, "failures.jsonl"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_writer(log)
                .with_filter(Targets::new().with_target("workflow::express", tracing::Level::INFO)),
        )
        .init();
    let runtime = Runtime::builder()
        .store(SqliteStore::open(&intake)?)
        .express_logging(Logging::new(LogLevel::Error))
        .express_concurrency(1_000, Backpressure::Wait)
        .register::<ScoreEvent>()
        .build()?;

    // Request/response: each caller awaits its result.
    let synchronous = 20_000;
    let began = Instant::now();
    let mut callers = JoinSet::new();
    for id in 0..synchronous {
        let runtime = runtime.clone();
        callers.spawn(async move { runtime.execute::<ScoreEvent>(event(id)).await });
    }
    let (mut scored, mut refused) = (0, 0);
    while let Some(done) = callers.join_next().await {
        match done??.into_result() {
            Ok(_) => scored += 1,
            Err(_) => refused += 1,
        }
    }
    let took = began.elapsed();
    println!(
        "synchronous: {synchronous} events in {:.2?} = {:.0} events/s ({scored} scored, {refused} refused)",
        took,
        synchronous as f64 / took.as_secs_f64()
    );

    // Fire-and-forget: each start returns once the event is durably accepted.
    let asynchronous = 2_000;
    let began = Instant::now();
    let mut starts = JoinSet::new();
    for id in 0..asynchronous {
        let runtime = runtime.clone();
        starts.spawn(async move { runtime.start::<ScoreEvent>(event(1_000_000 + id)).await });
    }
    let mut handles = Vec::new();
    while let Some(accepted) = starts.join_next().await {
        handles.push(accepted??);
    }
    let accepted = began.elapsed();
    for handle in &handles {
        let _ = handle.result().await?;
    }
    let finished = began.elapsed();
    println!(
        "asynchronous: {asynchronous} events accepted in {:.2?} = {:.0} events/s; all finished in {:.2?}",
        accepted,
        asynchronous as f64 / accepted.as_secs_f64(),
        finished
    );
    println!(
        "failures are logged to {}",
        dir.join("failures.jsonl.<date>").display()
    );
    drop(runtime);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", intake.display()));
    }
    let _ = std::fs::remove_dir_all(format!("{}.owners", intake.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use workflow::testing::Harness;

    fn harness() -> Harness {
        Harness::builder()
            .register::<ScoreEvent>()
            .build()
            .expect("builds")
    }

    #[workflow::test]
    async fn purchases_are_scored_by_amount() {
        let run = harness().run::<ScoreEvent>(event(10)).await;
        run.expect()
            .succeeded()
            .path(["Parse", "Route", "Purchase"]);
        assert_eq!(
            run.output().map(|scored| scored.score),
            Some(10),
            "1,010 cents score 10"
        );
    }

    #[workflow::test]
    async fn other_events_score_one() {
        let run = harness().run::<ScoreEvent>(event(1)).await;
        run.expect().succeeded().path(["Parse", "Route", "Other"]);
        assert_eq!(run.output().map(|scored| scored.score), Some(1));
    }

    #[workflow::test]
    async fn an_event_without_a_kind_fails() {
        let run = harness().run::<ScoreEvent>(event(999)).await;
        run.expect()
            .failed_with("EventError.Untyped")
            .path(["Parse"]);
    }

    #[workflow::test]
    async fn the_choice_alone_routes_a_purchase() {
        let route = harness().state::<ScoreEvent>("Route").run(event(20)).await;
        assert_eq!(route.next_state(), Some("Purchase"));
        let click = harness().state::<ScoreEvent>("Route").run(event(3)).await;
        assert_eq!(click.next_state(), Some("Other"));
    }

    #[test]
    fn the_diagrams_are_as_reviewed() {
        // Its pictures, as reviewed (`UPDATE_GOLDEN=1` rewrites them after a change).
        let reviewed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
        workflow::testing::assert_diagrams(ScoreEvent::definition(), reviewed);
    }
}
