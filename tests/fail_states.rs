//! Fail states: a given error and cause, ones worked out from the state's input (the States
//! Language's `ErrorPath` and `CausePath`), a cause alone, and neither.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::store::Store;
use workflow::testing::Harness;
use workflow::{EventType, VirtualClock};

mod support {
    pub(crate) mod stores;
}
use support::stores::stores;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
    amount: u64,
    code: String,
}

fn order(amount: u64) -> Order {
    Order {
        id: 7,
        amount,
        code: "Order.TooBig".into(),
    }
}

/// Why an order is refused; a plain function, its input type taken from the state.
fn reason(order: &Order) -> String {
    format!("order {} costs {}", order.id, order.amount)
}

workflow! {
    /// Refuses orders, each way a Fail state can say why.
    Refuse: Standard<Order, Order> {
        start Route;
        Route: choice {
            |order: &Order| order.amount > 1000 => Computed,
            |order: &Order| order.amount > 100 => Named,
            |order: &Order| order.amount > 50 => CauseOnly,
            |order: &Order| order.amount > 10 => Bare,
            _ => Accept,
        };
        Computed: fail |order: &Order| order.code.clone(), cause reason;
        Named: fail "Order.Refused", cause reason;
        CauseOnly: fail cause |order: &Order| format!("order {} needs a look", order.id);
        Bare: fail;
        Accept: succeed;
    }
}

#[derive(Debug, Clone, Copy, thiserror::Error, StepError)]
enum Refusal {
    #[error("the order is too large")]
    TooLarge,
}

#[step]
async fn check(order: Order) -> Result<Order, Refusal> {
    if order.amount > 100 {
        return Err(Refusal::TooLarge);
    }
    Ok(order)
}

workflow! {
    /// Refuses large orders in a Fail state, or in a failing task, quickly.
    RefuseQuickly: Express<Order, Order> {
        start Route;
        Route: choice {
            |order: &Order| order.amount > 1000 => TooLarge,
            _ => Check,
        };
        TooLarge: fail "Order.TooLarge", cause reason;
        Check: task check -> end;
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Refuse>()
        .register::<Guarded>()
        .build()
        .expect("builds")
}

async fn failure_of(amount: u64) -> (String, String, Vec<EventType>) {
    let execution = runtime()
        .execute::<Refuse>(order(amount))
        .await
        .expect("runs");
    let failure = execution.failure().expect("fails");
    let kinds = execution.history().kinds();
    let failed = execution
        .history()
        .events()
        .iter()
        .find(|event| event.kind == EventType::ExecutionFailed)
        .expect("recorded")
        .clone();
    assert_eq!(failed.error.as_deref(), Some(failure.error()));
    assert_eq!(failed.cause.as_deref(), Some(failure.cause()));
    assert_eq!(
        failure.state(),
        execution.history().events()[3].state.as_deref()
    );
    (
        failure.error().to_owned(),
        failure.cause().to_owned(),
        kinds,
    )
}

#[tokio::test(start_paused = true)]
async fn the_error_and_cause_are_worked_out_from_the_input() {
    use EventType::*;
    let (error, cause, kinds) = failure_of(5000).await;
    assert_eq!(
        (error.as_str(), cause.as_str()),
        ("Order.TooBig", "order 7 costs 5000")
    );
    assert_eq!(
        kinds,
        [
            ExecutionStarted,
            ChoiceStateEntered,
            ChoiceStateExited,
            FailStateEntered,
            ExecutionFailed
        ]
    );
    let (error, cause, _) = failure_of(500).await;
    assert_eq!(
        (error.as_str(), cause.as_str()),
        ("Order.Refused", "order 7 costs 500")
    );
}

#[tokio::test(start_paused = true)]
async fn a_fail_state_may_give_a_cause_alone_or_nothing() {
    let (error, cause, _) = failure_of(60).await;
    assert_eq!(
        (error.as_str(), cause.as_str()),
        ("", "order 7 needs a look")
    );
    let (error, cause, _) = failure_of(20).await;
    assert_eq!((error.as_str(), cause.as_str()), ("", ""));
    // In AWS's shape, as Step Functions records a Fail state without Error or Cause: empty
    // details.
    let bare = runtime().execute::<Refuse>(order(20)).await.expect("runs");
    let exported = bare.history().to_aws_json();
    let events = exported["events"].as_array().expect("events");
    let last = events.last().expect("an event");
    assert_eq!(last["type"], "ExecutionFailed");
    assert_eq!(last["executionFailedEventDetails"], serde_json::json!({}));
    let execution = runtime().execute::<Refuse>(order(5)).await.expect("runs");
    assert_eq!(execution.output(), Some(&order(5)));
}

workflow! {
    /// A computed error name may be anything, so catching a name no step lists is allowed.
    Guarded: Standard<Order, String> {
        start Check;
        Check: parallel {
            branch {
                start Refused;
                Refused: fail |order: &Order| order.code.clone();
            }
        } -> end, catch "Order.TooBig" -> Handled;
        Handled: pass |caught: Caught<Order>| -> String { caught.error } -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn a_computed_error_reaches_the_catchers_of_the_enclosing_state() {
    let runtime = runtime();
    let execution = runtime.execute::<Guarded>(order(1)).await.expect("runs");
    assert_eq!(execution.output().map(String::as_str), Some("Order.TooBig"));
    let other = Order {
        code: "Order.Unknown".into(),
        ..order(1)
    };
    let execution = runtime.execute::<Guarded>(other).await.expect("runs");
    assert_eq!(
        execution.failure().map(ExecutionFailure::error),
        Some("Order.Unknown")
    );
}

#[test]
fn the_definition_keeps_the_functions_and_the_asl_has_placeholders() {
    use workflow::definition::StateKind;
    let definition = <Refuse as Workflow>::definition();
    let (_, computed) = definition.state_by_name("Computed").expect("declared");
    let StateKind::Fail(fail) = &computed.kind else {
        panic!("Computed is a Fail state");
    };
    assert_eq!(fail.error, None);
    assert_eq!(
        fail.error_function.as_deref(),
        Some("|order: &Order| order.code.clone()")
    );
    assert_eq!(fail.cause_function.as_deref(), Some("reason"));
    let asl = workflow::render::Asl::new().to_value(definition);
    let states = &asl["States"];
    assert_eq!(states["Computed"]["ErrorPath"], "$.error");
    assert_eq!(states["Computed"]["CausePath"], "$.cause");
    assert!(states["Computed"].get("Error").is_none());
    assert_eq!(states["Named"]["Error"], "Order.Refused");
    assert_eq!(states["Named"]["CausePath"], "$.cause");
    assert_eq!(
        states["Bare"],
        serde_json::json!({ "Type": "Fail" }),
        "neither an error nor a cause"
    );
}

#[workflow::test]
async fn a_computed_fail_state_can_be_tested_on_its_own() {
    let harness = Harness::builder().register::<Refuse>().build().unwrap();
    let run = harness.state::<Refuse>("Computed").run(order(5000)).await;
    let failure = run.failure().expect("fails");
    assert_eq!(
        (failure.error(), failure.cause()),
        ("Order.TooBig", "order 7 costs 5000")
    );
}

/// A failed execution says the state it failed in, however it is run and read: `execute`,
/// and `start` then `result` (read back from the store), of Standard and Express workflows,
/// on every store; and the stored record says it too.
#[tokio::test(start_paused = true)]
async fn a_failed_execution_names_its_state_whichever_way_it_runs() {
    for (label, store, _keep) in stores().await {
        let runtime = Runtime::builder()
            .store_arc(Arc::clone(&store) as Arc<dyn Store>)
            .clock(VirtualClock::new())
            .register::<Refuse>()
            .register::<RefuseQuickly>()
            .build()
            .expect("builds");
        let failures = [
            (5000, "Computed", "Order.TooBig"),
            (500, "Named", "Order.Refused"),
        ];
        for (amount, state, error) in failures {
            let executed = runtime.execute::<Refuse>(order(amount)).await.expect(label);
            let started = runtime.start::<Refuse>(order(amount)).await.expect(label);
            let result = started.result().await.expect(label);
            let failure = result.expect_err(label);
            assert_eq!(Some(&failure), executed.failure(), "{label}: {amount}");
            assert_eq!(failure.state(), Some(state), "{label}");
            assert_eq!(failure.error(), error, "{label}");
            let record = runtime.describe(started.id()).await.expect(label);
            assert_eq!(record.failed_state.as_deref(), Some(state), "{label}");
        }
        let quick = [
            (5000, "TooLarge", "Order.TooLarge"),
            (500, "Check", "Refusal.TooLarge"),
        ];
        for (amount, state, error) in quick {
            let executed = runtime
                .execute::<RefuseQuickly>(order(amount))
                .await
                .expect(label);
            let started = runtime
                .start::<RefuseQuickly>(order(amount))
                .await
                .expect(label);
            let failure = started.result().await.expect(label).expect_err(label);
            assert_eq!(Some(&failure), executed.failure(), "{label}: {amount}");
            assert_eq!(
                (failure.state(), failure.error()),
                (Some(state), error),
                "{label}"
            );
        }
    }
}
