//! Nested workflows: a task that runs another workflow as a child execution.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{EventType, Problem, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Payment {
    card: String,
    cents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Receipt {
    transaction: String,
}

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, StepError)]
enum GatewayError {
    #[error("the gateway is down")]
    Down,
}

#[derive(Default)]
struct Gateway {
    calls: AtomicU32,
}

/// Charges a card; the gateway is down on the first call for card "flaky".
#[step]
async fn charge(payment: Payment, gateway: Res<Gateway>) -> Result<Payment, GatewayError> {
    let calls = gateway.calls.fetch_add(1, Ordering::SeqCst);
    if payment.card == "flaky" && calls == 0 {
        return Err(GatewayError::Down);
    }
    Ok(payment)
}

/// Issues the receipt.
#[step]
async fn receipt(payment: Payment) -> Receipt {
    Receipt {
        transaction: format!("{}-{}", payment.card, payment.cents),
    }
}

workflow! {
    /// Charges a card; declines cards of blocked customers.
    PaymentFlow: Express<Payment, Receipt> {
        start Screen;
        Screen: choice {
            |payment: &Payment| payment.card == "blocked" => Declined,
            _ => Charge,
        };
        Charge: task charge -> Issue;
        Issue: task receipt -> end;
        Declined: fail "CardDeclined", cause "the card is blocked";
    }
}

/// Apologises.
#[step]
async fn apologise(failed: Caught<Payment>) -> Receipt {
    Receipt {
        transaction: format!("none ({})", failed.error),
    }
}

workflow! {
    /// Runs the payment as a child execution.
    Checkout: Standard<Payment, Receipt> {
        start Pay;
        Pay: task PaymentFlow -> end,
            retry "GatewayError.Down" { interval: 1s },
            catch "CardDeclined" -> Apologise;
        Apologise: task apologise -> end;
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .resource(Gateway::default())
        .register::<Checkout>()
        .build()
        .expect("builds")
}

fn payment(card: &str) -> Payment {
    Payment {
        card: card.into(),
        cents: 500,
    }
}

#[tokio::test(start_paused = true)]
async fn a_child_execution_returns_its_typed_output_and_keeps_its_own_history() {
    let execution = runtime()
        .execute::<Checkout>(payment("visa"))
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(|r| r.transaction.as_str()),
        Some("visa-500")
    );
    assert_eq!(execution.children().len(), 1);
    let child = &execution.children()[0];
    assert_eq!(
        (child.workflow, child.parent_state, child.attempt),
        ("PaymentFlow", "Pay", 1)
    );
    assert_ne!(&child.id, execution.id());
    use EventType::*;
    assert_eq!(child.history.kinds().first(), Some(&ExecutionStarted));
    assert_eq!(child.history.kinds().last(), Some(&ExecutionSucceeded));
    assert!(child
        .history
        .of_state("Issue")
        .any(|event| event.kind == TaskSucceeded));
    // The parent's history shows the child as one task.
    let parent: Vec<EventType> = execution.history().kinds();
    assert_eq!(
        parent,
        [
            ExecutionStarted,
            TaskStateEntered,
            TaskScheduled,
            TaskStarted,
            TaskSucceeded,
            TaskStateExited,
            ExecutionSucceeded
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_child_failure_reaches_the_parents_retriers_and_catchers_by_name() {
    let runtime = runtime();
    let retried = runtime
        .execute::<Checkout>(payment("flaky"))
        .await
        .expect("runs");
    assert_eq!(
        retried.output().map(|r| r.transaction.as_str()),
        Some("flaky-500")
    );
    assert_eq!(retried.children().len(), 2, "one child per attempt");
    assert_eq!(
        retried.children()[0].status,
        workflow::ExecutionStatus::Failed
    );
    assert_eq!(retried.children()[1].attempt, 2);

    let caught = runtime
        .execute::<Checkout>(payment("blocked"))
        .await
        .expect("runs");
    assert_eq!(
        caught.output().map(|r| r.transaction.as_str()),
        Some("none (CardDeclined)")
    );
    let failed = caught
        .history()
        .events()
        .iter()
        .find(|event| event.kind == EventType::TaskFailed)
        .expect("the child's failure fails the task");
    assert_eq!(
        (failed.error.as_deref(), failed.cause.as_deref()),
        (Some("CardDeclined"), Some("the card is blocked"))
    );
}

workflow! {
    /// Catches an error the child never raises.
    Careless: Standard<Payment, Receipt> {
        start Pay;
        Pay: task PaymentFlow -> end, catch "CardExpired" -> Apologise;
        Apologise: task apologise -> end;
    }
}

#[test]
fn an_error_name_the_child_never_raises_is_refused_when_the_runtime_is_built() {
    let error = Runtime::builder()
        .resource(Gateway::default())
        .register::<Careless>()
        .build()
        .expect_err("CardExpired is never raised");
    let [Problem::UnraisableError {
        state,
        error: name,
        raised,
        ..
    }] = error.problems()
    else {
        panic!("one problem: {error}");
    };
    assert_eq!((state.as_str(), name.as_str()), ("Pay", "CardExpired"));
    assert_eq!(raised, &["GatewayError.Down", "CardDeclined"]);
}

#[test]
fn a_missing_resource_of_the_child_is_the_parents_problem() {
    let error = Runtime::builder()
        .register::<Checkout>()
        .build()
        .expect_err("no gateway");
    assert!(error.to_string().contains("Gateway"), "{error}");
}
