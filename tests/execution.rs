//! The engine's history and results: exact event sequences for succeeding and failing
//! executions, typed failures, resources checked at registration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use workflow::prelude::*;
use workflow::{EventType, ExecutionStatus, Problem, RuntimeError, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
    amount: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Receipt {
    id: u32,
    charged: u64,
}

#[derive(Debug, PartialEq, thiserror::Error, StepError)]
enum PaymentError {
    #[error("card declined for {amount}")]
    Declined { amount: u64 },
    #[allow(dead_code)] // Never raised here; present for its custom name.
    #[error("gateway timed out")]
    #[step_error(name = "Gateway.Timeout")]
    GatewayTimeout,
}

trait Gateway: Send + Sync {
    fn limit(&self) -> u64;
}

struct Generous;
impl Gateway for Generous {
    fn limit(&self) -> u64 {
        1_000
    }
}

#[step]
async fn validate(order: Order) -> Order {
    order
}

#[step(name = "ChargeCard", timeout = "30s")]
async fn charge(order: Order, gateway: Res<dyn Gateway>) -> Result<Receipt, PaymentError> {
    if order.amount > gateway.limit() {
        return Err(PaymentError::Declined {
            amount: order.amount,
        });
    }
    Ok(Receipt {
        id: order.id,
        charged: order.amount,
    })
}

workflow! {
    /// Validates and charges.
    Checkout: Standard<Order, Receipt> {
        start Validate;
        /// Checks the order.
        Validate: task validate -> Charge;
        Charge: task charge -> Done;
        Done: succeed;
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .resource_arc::<dyn Gateway>(Arc::new(Generous))
        .register::<Checkout>()
        .build()
        .expect("runtime builds")
}

#[tokio::test(start_paused = true)]
async fn a_succeeding_execution_records_every_event_in_order() {
    let execution = runtime()
        .execute::<Checkout>(Order { id: 1, amount: 250 })
        .await
        .expect("runs");
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        execution.output(),
        Some(&Receipt {
            id: 1,
            charged: 250
        })
    );

    let events = execution.history().events();
    let sequence: Vec<(EventType, Option<&str>)> = events
        .iter()
        .map(|event| (event.kind, event.state.as_deref()))
        .collect();
    use EventType::*;
    assert_eq!(
        sequence,
        [
            (ExecutionStarted, None),
            (TaskStateEntered, Some("Validate")),
            (TaskScheduled, Some("Validate")),
            (TaskStarted, Some("Validate")),
            (TaskSucceeded, Some("Validate")),
            (TaskStateExited, Some("Validate")),
            (TaskStateEntered, Some("Charge")),
            (TaskScheduled, Some("Charge")),
            (TaskStarted, Some("Charge")),
            (TaskSucceeded, Some("Charge")),
            (TaskStateExited, Some("Charge")),
            (SucceedStateEntered, Some("Done")),
            (SucceedStateExited, Some("Done")),
            (ExecutionSucceeded, None),
        ]
    );
    for (index, event) in events.iter().enumerate() {
        let id = index as u64 + 1;
        assert_eq!((event.id, event.previous_event_id), (id, id - 1));
    }
    assert_eq!(events[0].input, Some(json!({"id": 1, "amount": 250})));
    assert_eq!(events[10].output, Some(json!({"id": 1, "charged": 250})));
    assert_eq!(events[13].output, Some(json!({"id": 1, "charged": 250})));
    assert!(events.iter().all(|event| event.error.is_none()));
}

#[tokio::test(start_paused = true)]
async fn a_step_error_fails_the_execution_with_a_typed_failure() {
    let execution = runtime()
        .execute::<Checkout>(Order {
            id: 2,
            amount: 5_000,
        })
        .await
        .expect("runs");
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let failure = execution.failure().expect("fails");
    assert_eq!(failure.state(), Some("Charge"));
    assert_eq!(failure.error(), "PaymentError.Declined");
    assert_eq!(failure.cause(), "card declined for 5000");
    assert_eq!(
        failure.downcast_ref::<PaymentError>(),
        Some(&PaymentError::Declined { amount: 5_000 })
    );
    assert_eq!(
        failure.to_string(),
        "state `Charge` failed with PaymentError.Declined: card declined for 5000"
    );

    use EventType::*;
    assert_eq!(
        execution.history().kinds(),
        [
            ExecutionStarted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskSucceeded,
            TaskStateExited,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskFailed,
            ExecutionFailed,
        ]
    );
    let failed = &execution.history().events()[9];
    assert_eq!(failed.error.as_deref(), Some("PaymentError.Declined"));
    assert_eq!(failed.cause.as_deref(), Some("card declined for 5000"));
    let last = execution.history().events().last().expect("events");
    assert_eq!(
        (last.error.as_deref(), last.state.as_deref()),
        (Some("PaymentError.Declined"), None)
    );
}

#[test]
fn the_definition_describes_states_steps_and_options() {
    let definition = <Checkout as Workflow>::definition();
    assert_eq!(definition.name, "Checkout");
    assert_eq!(
        definition.comment.as_deref(),
        Some("Validates and charges.")
    );
    assert_eq!(definition.mode, workflow::Mode::Standard);
    let names: Vec<&str> = definition
        .states
        .iter()
        .map(|state| state.name.as_str())
        .collect();
    assert_eq!(names, ["Validate", "Charge", "Done"]);
    assert_eq!(
        definition.states[0].comment.as_deref(),
        Some("Checks the order.")
    );
    let workflow::definition::StateKind::Task(task) = &definition.states[1].kind else {
        panic!("Charge is a task");
    };
    assert_eq!(task.step.name, "ChargeCard");
    assert_eq!(task.step.function, "execution::charge");
    assert_eq!(task.timeout, Some(std::time::Duration::from_secs(30)));
    assert_eq!(
        task.step.error_names,
        ["PaymentError.Declined", "Gateway.Timeout"]
    );
    assert_eq!(task.step.resources, ["dyn execution::Gateway"]);
    assert!(task.step.input_type.ends_with("Order"));
    // Definitions are plain data: they round-trip through JSON.
    let json = serde_json::to_string(definition).expect("serialises");
    let back: workflow::Definition = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(&back, definition);
}

#[test]
fn a_missing_resource_is_an_error_when_the_runtime_is_built() {
    let error = Runtime::builder()
        .register::<Checkout>()
        .build()
        .expect_err("the gateway is missing");
    assert_eq!(
        error.problems(),
        [Problem::MissingResource {
            workflow: "Checkout".into(),
            state: "Charge".into(),
            step: "ChargeCard".into(),
            resource: "dyn execution::Gateway".into(),
        }]
    );
    assert!(
        error
            .to_string()
            .contains("add one with `RuntimeBuilder::resource`"),
        "{error}"
    );
    // Returned with `?` from `main`, it prints as it reads.
    assert_eq!(format!("{error:?}"), error.to_string());
}

/// Settings below their least value are refused, each named, rather than raised silently.
#[test]
fn settings_below_their_least_are_refused() {
    let error = Runtime::builder()
        .park_after(std::time::Duration::from_millis(500))
        .express_concurrency(0, workflow::Backpressure::Wait)
        .history_limit(1)
        .build()
        .expect_err("refused");
    let settings: Vec<_> = error
        .problems()
        .iter()
        .map(|problem| match problem {
            Problem::OutOfRange { setting, .. } => *setting,
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        settings,
        ["park_after", "express_concurrency", "history_limit"]
    );
    assert!(
        error
            .to_string()
            .contains("`RuntimeBuilder::park_after` was given 500ms, below its least, 1s"),
        "{error}"
    );
    // At their least, they are taken.
    Runtime::builder()
        .park_after(std::time::Duration::from_secs(1))
        .express_concurrency(1, workflow::Backpressure::Wait)
        .history_limit(2)
        .build()
        .expect("builds");
}

/// An `Arc` added with `resource` is a resource of type `Arc<T>`: the error says so, and how
/// to add it instead.
#[test]
fn a_resource_added_in_an_arc_of_its_own_is_pointed_out() {
    let gateway: Arc<dyn Gateway> = Arc::new(Generous);
    let error = Runtime::builder()
        .resource(gateway)
        .register::<Checkout>()
        .build()
        .expect_err("the gateway is in an Arc of its own");
    assert_eq!(
        error.problems(),
        [Problem::ResourceInArc {
            workflow: "Checkout".into(),
            state: "Charge".into(),
            step: "ChargeCard".into(),
            resource: "dyn execution::Gateway".into(),
        }]
    );
    assert!(
        error.to_string().contains("`RuntimeBuilder::resource_arc`"),
        "{error}"
    );
}

/// Ids parse from any text (command-line arguments, query strings) and print as they were.
#[test]
fn an_execution_id_parses_and_prints_as_its_text() {
    let id: ExecutionId = "A-1002".parse().expect("any text is an id");
    assert_eq!(id.to_string(), "A-1002");
    assert_eq!(id, ExecutionId::from("A-1002"));
}

#[tokio::test]
async fn an_unregistered_workflow_cannot_be_executed() {
    let runtime = Runtime::builder().build().expect("builds");
    let error = runtime
        .execute::<Checkout>(Order { id: 3, amount: 1 })
        .await
        .expect_err("unregistered");
    assert_eq!(
        error,
        RuntimeError::NotRegistered {
            workflow: "Checkout".into()
        }
    );
}

#[step]
async fn reject(order: Order) -> Order {
    order
}

workflow! {
    StraightToFail: Express<Order, Receipt> {
        start Reject;
        Reject: task reject -> Rejected;
        Rejected: fail "OrderRejected", cause "We do not ship there";
    }
}

#[tokio::test(start_paused = true)]
async fn a_fail_state_ends_the_execution_with_its_error_and_cause() {
    let runtime = Runtime::builder()
        .register::<StraightToFail>()
        .build()
        .expect("builds");
    let execution = runtime
        .execute::<StraightToFail>(Order { id: 4, amount: 1 })
        .await
        .expect("runs");
    let failure = execution.failure().expect("fails");
    assert_eq!(
        (failure.state(), failure.error(), failure.cause()),
        (Some("Rejected"), "OrderRejected", "We do not ship there")
    );
    assert!(failure.downcast_ref::<PaymentError>().is_none());
    use EventType::*;
    let kinds = execution.history().kinds();
    assert_eq!(
        &kinds[kinds.len() - 2..],
        [FailStateEntered, ExecutionFailed]
    );
    assert!(execution.history().len() >= 8);
}

/// A status reads the same in JSON, in `Display` and in the CLI; JSON of earlier releases
/// still reads.
#[test]
fn statuses_are_written_one_way() {
    for (status, name) in [
        (ExecutionStatus::Running, "running"),
        (ExecutionStatus::Succeeded, "succeeded"),
        (ExecutionStatus::Failed, "failed"),
        (ExecutionStatus::TimedOut, "timed-out"),
        (ExecutionStatus::Aborted, "aborted"),
        (ExecutionStatus::Unknown, "unknown"),
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
        assert_eq!(status.to_string(), name);
        assert_eq!(
            serde_json::from_value::<ExecutionStatus>(json!(name)).unwrap(),
            status
        );
    }
    assert_eq!(
        serde_json::from_value::<ExecutionStatus>(json!("TimedOut")).unwrap(),
        ExecutionStatus::TimedOut
    );
}

/// A stored record and a failure serialise in the documented shape and read back equal.
#[tokio::test(start_paused = true)]
async fn records_and_failures_serialise_and_read_back() {
    let runtime = runtime();
    let handle = runtime
        .start::<Checkout>(Order {
            id: 4,
            amount: 5_000,
        })
        .await
        .expect("starts");
    let failure = handle.result().await.expect("ends").expect_err("declined");
    let record = runtime.describe(handle.id()).await.expect("stored");

    let json = serde_json::to_value(&record).expect("serialises");
    assert_eq!(json["id"], json!(handle.id().to_string()));
    assert_eq!(json["workflow"], json!("Checkout"));
    assert_eq!(json["status"], json!("failed"));
    assert_eq!(json["error"], json!("PaymentError.Declined"));
    assert_eq!(json["failed_state"], json!("Charge"));
    assert_eq!(json["input"], json!({ "id": 4, "amount": 5_000 }));
    let started = json["started_at"].as_str().expect("a time in text");
    assert!(started.ends_with('Z') && started.contains('T'), "{started}");
    assert!(json["stopped_at"].is_string());
    let back: workflow::store::ExecutionRecord = serde_json::from_value(json).expect("reads back");
    assert_eq!(back, record);

    let json = serde_json::to_value(&failure).expect("serialises");
    assert_eq!(
        json,
        json!({
            "state": "Charge",
            "error": "PaymentError.Declined",
            "cause": "card declined for 5000",
        })
    );
    let back: ExecutionFailure = serde_json::from_value(json).expect("reads back");
    assert_eq!(back, failure);
    assert!(back.downcast_ref::<PaymentError>().is_none());
}
