//! Tracing: a step's own events happen inside the spans of its execution (workflow, id,
//! mode), its state (name, kind) and its attempt (step, number), whichever way it runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;
use workflow::prelude::*;

/// An event's fields, and the spans it happened in (outermost first), as text.
type Sighting = (String, Vec<String>);

/// Every event seen.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Sighting>>>);

/// A span's name and fields, kept with it.
struct Described(String);

/// Fields as `name=value`, space-separated.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Seen {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut text = Text::default();
        attributes.record(&mut text);
        let described = Described(format!("{} {}", attributes.metadata().name(), text.0));
        context.span(id).unwrap().extensions_mut().insert(described);
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        let spans = context
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| span.extensions().get::<Described>().unwrap().0.clone())
                    .collect()
            })
            .unwrap_or_default();
        self.0.lock().unwrap().push((text.0, spans));
    }
}

impl Seen {
    /// The spans of the events whose message is `message`, in order.
    fn spans_of(&self, message: &str) -> Vec<Vec<String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(text, _)| text.contains(message))
            .map(|(_, spans)| spans.clone())
            .collect()
    }
}

#[derive(Default)]
struct Tries(AtomicU32);

#[derive(Debug, Clone, Copy, thiserror::Error, StepError)]
enum Declined {
    #[error("declined")]
    Declined,
}

/// Logs, and declines the first time it runs.
#[step]
async fn charge(amount: u32, tries: Res<Tries>) -> Result<u32, Declined> {
    tracing::info!(amount, "charging");
    if tries.0.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(Declined::Declined);
    }
    Ok(amount)
}

workflow! {
    /// Charges, once more if declined.
    Payment: Standard<u32, u32> {
        start Charge;
        Charge: task charge -> end, retry Declined::Declined { max_attempts: 1, interval: 1s };
    }
}

#[step]
async fn note(amount: u32) -> u32 {
    tracing::info!(amount, "noting");
    amount
}

workflow! {
    /// Notes, quickly.
    Quick: Express<u32, u32> {
        start Note;
        Note: task note -> end;
    }
}

workflow! {
    /// Notes in a branch of a Parallel state.
    Branches: Express<u32, (u32, u32)> {
        start Both;
        Both: parallel {
            branch { start Left; Left: task note -> end; }
            branch { start Right; Right: pass -> end; }
        } -> end;
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(workflow::VirtualClock::new())
        .resource(Tries::default())
        .register::<Payment>()
        .register::<Quick>()
        .register::<Branches>()
        .build()
        .expect("builds")
}

#[tokio::test(start_paused = true)]
async fn a_steps_events_carry_its_execution_state_and_attempt() {
    let seen = Seen::default();
    let _subscriber =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(seen.clone()));
    let runtime = runtime();

    let execution = runtime.execute::<Payment>(7).await.expect("runs");
    assert_eq!(execution.output(), Some(&7));
    let id = execution.id().to_string();
    let attempts = seen.spans_of("charging");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    for (number, spans) in attempts.iter().enumerate() {
        assert_eq!(spans.len(), 3, "{spans:?}");
        assert!(spans[0].starts_with("workflow.execution "), "{spans:?}");
        assert!(spans[0].contains("workflow.name=\"Payment\""), "{spans:?}");
        assert!(
            spans[0].contains(&format!("workflow.execution.id=\"{id}\"")),
            "{spans:?}"
        );
        assert!(spans[0].contains("workflow.mode=Standard"), "{spans:?}");
        assert!(spans[1].starts_with("workflow.state "), "{spans:?}");
        assert!(
            spans[1].contains("workflow.state.name=\"Charge\""),
            "{spans:?}"
        );
        assert!(
            spans[1].contains("workflow.state.kind=\"Task\""),
            "{spans:?}"
        );
        assert!(spans[2].starts_with("workflow.task.attempt "), "{spans:?}");
        assert!(
            spans[2].contains("workflow.step.name=\"charge\""),
            "{spans:?}"
        );
        assert!(
            spans[2].contains(&format!("workflow.task.attempt={}", number + 1)),
            "{spans:?}"
        );
    }

    // A synchronous Express call, which records nothing, has them too.
    assert_eq!(runtime.call::<Quick>(3).await.expect("runs"), Ok(3));
    let noted = seen.spans_of("noting");
    assert_eq!(noted.len(), 1, "{noted:?}");
    let spans = &noted[0];
    assert!(
        spans[0].contains("workflow.name=\"Quick\"") && spans[0].contains("workflow.mode=Express"),
        "{spans:?}"
    );
    assert!(
        spans[1].contains("workflow.state.name=\"Note\""),
        "{spans:?}"
    );
    assert!(spans[2].contains("workflow.task.attempt=1"), "{spans:?}");

    // A branch's states nest in the Parallel state that runs them.
    assert_eq!(runtime.call::<Branches>(5).await.expect("runs"), Ok((5, 5)));
    let noted = seen.spans_of("noting");
    let spans = noted.last().expect("noted in the branch");
    assert_eq!(spans.len(), 4, "{spans:?}");
    assert!(spans[0].contains("workflow.name=\"Branches\""), "{spans:?}");
    assert!(
        spans[1].contains("workflow.state.name=\"Both\"")
            && spans[1].contains("workflow.state.kind=\"Parallel\""),
        "{spans:?}"
    );
    assert!(
        spans[2].contains("workflow.state.name=\"Left\""),
        "{spans:?}"
    );
    assert!(spans[3].starts_with("workflow.task.attempt "), "{spans:?}");
}
