//! The testing toolkit itself: mocks and scripts in place of steps, virtual time, and the
//! assertions' messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::testing::{Harness, Mock, Script};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
    cents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Receipt {
    order: u32,
    transaction: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error, StepError)]
enum PaymentError {
    #[error("the gateway timed out")]
    GatewayTimeout,
    #[error("the card was declined")]
    Declined,
}

/// The real gateway: never reachable from these tests.
struct Gateway;

/// Charges through the gateway resource.
#[step(timeout = "30s")]
async fn charge(order: Order, _gateway: Res<Gateway>) -> Result<Receipt, PaymentError> {
    Ok(Receipt {
        order: order.id,
        transaction: "real".to_owned(),
    })
}

/// Records a declined payment.
#[step]
async fn decline(failed: Caught<Order>) -> Receipt {
    Receipt {
        order: failed.input.id,
        transaction: format!("declined: {}", failed.error),
    }
}

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry PaymentError::GatewayTimeout | States::Timeout { max_attempts: 3, interval: 1m, backoff: 2.0 },
            catch PaymentError::Declined -> Declined;
        Declined: task decline -> end;
    }
}

workflow! {
    QuickCheckout: Express<Order, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry PaymentError::GatewayTimeout { max_attempts: 1, interval: 1s };
    }
}

fn order() -> Order {
    Order {
        id: 7,
        cents: 1_250,
    }
}

fn receipt(transaction: &str) -> Receipt {
    Receipt {
        order: 7,
        transaction: transaction.to_owned(),
    }
}

#[workflow::test]
async fn a_script_drives_a_task_through_its_retries() {
    let charge = Script::<charge>::new()
        .err(PaymentError::GatewayTimeout)
        .err(PaymentError::GatewayTimeout)
        .ok(receipt("t-1"));
    // No Gateway resource: the mocked step does not need it.
    let harness = Harness::builder()
        .mock(charge.clone())
        .register::<Checkout>()
        .build()
        .unwrap();

    let run = harness.run::<Checkout>(order()).await;

    run.expect()
        .succeeded()
        .path(["Charge"])
        .attempts("Charge", 3)
        .not_entered("Declined");
    assert_eq!(run.output(), Some(&receipt("t-1")));
    // 1 minute, then 2: on virtual time, exactly and at once.
    assert_eq!(run.elapsed(), Duration::from_secs(180));
    assert_eq!(charge.calls(), 3);
    assert_eq!(charge.remaining(), 0);
    assert_eq!(charge.inputs()[0]["cents"], 1_250);
}

#[workflow::test]
async fn a_declined_card_is_caught() {
    let harness = Harness::builder()
        .mock(Script::<charge>::new().err(PaymentError::Declined))
        .register::<Checkout>()
        .build()
        .unwrap();

    let run = harness.run::<Checkout>(order()).await;

    run.expect()
        .succeeded()
        .path(["Charge", "Declined"])
        .attempts("Charge", 1)
        .caught("Charge", "PaymentError.Declined", "Declined");
    assert_eq!(
        run.output().map(|r| r.transaction.as_str()),
        Some("declined: PaymentError.Declined")
    );
}

#[workflow::test]
async fn a_hanging_step_times_out_on_virtual_time() {
    let harness = Harness::builder()
        .mock(Script::<charge>::new().hang().ok(receipt("t-2")))
        .register::<Checkout>()
        .build()
        .unwrap();

    let run = harness.run::<Checkout>(order()).await;

    run.expect().succeeded().attempts("Charge", 2);
    // The 30 s timeout, then the 1 minute retry delay.
    assert_eq!(run.elapsed(), Duration::from_secs(90));
}

#[workflow::test]
async fn a_closure_mock_sees_each_input() {
    let charge = Mock::<charge>::returning(|order: Order| {
        if order.cents > 1_000 {
            Err(PaymentError::Declined)
        } else {
            Ok(Receipt {
                order: order.id,
                transaction: format!("paid {}", order.cents),
            })
        }
    });
    let harness = Harness::builder()
        .mock(charge.clone())
        .register::<QuickCheckout>()
        .build()
        .unwrap();

    let small = harness
        .run::<QuickCheckout>(Order { id: 1, cents: 99 })
        .await;
    small.expect().succeeded();
    assert_eq!(small.output().unwrap().transaction, "paid 99");

    let big = harness.run::<QuickCheckout>(order()).await;
    big.expect()
        .failed_with("PaymentError.Declined")
        .attempts("Charge", 1);
    assert_eq!(charge.calls(), 2);
}

#[workflow::test]
async fn an_async_mock_may_take_virtual_time() {
    let charge = Mock::<charge>::new(|order: Order| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(Receipt {
            order: order.id,
            transaction: "slow".to_owned(),
        })
    });
    let harness = Harness::builder()
        .mock(charge)
        .register::<QuickCheckout>()
        .build()
        .unwrap();

    let run = harness.run::<QuickCheckout>(order()).await;

    run.expect().succeeded();
    assert_eq!(run.elapsed(), Duration::from_secs(5));
}

#[workflow::test]
async fn a_used_up_script_fails_clearly_or_runs_the_real_step() {
    let harness = Harness::builder()
        .mock(Script::<charge>::new().err(PaymentError::GatewayTimeout))
        .register::<QuickCheckout>()
        .build()
        .unwrap();
    let run = harness.run::<QuickCheckout>(order()).await;
    let failure = run.unwrap_failure();
    assert_eq!(failure.error(), "States.Runtime");
    assert!(
        failure.cause().contains(
            "the script of step `charge` has 1 result(s) and attempt 2 asked for one more"
        ),
        "{}",
        failure.cause()
    );

    let harness = Harness::builder()
        .resource(Gateway)
        .mock(
            Script::<charge>::new()
                .err(PaymentError::GatewayTimeout)
                .then_real(),
        )
        .register::<QuickCheckout>()
        .build()
        .unwrap();
    let run = harness.run::<QuickCheckout>(order()).await;
    run.expect().succeeded().attempts("Charge", 2);
    assert_eq!(run.output().unwrap().transaction, "real");
}

#[workflow::test]
async fn a_state_mock_wins_over_the_step_mock() {
    let harness = Harness::builder()
        .mock(Script::<charge>::new().ok(receipt("step")))
        .mock_state("Charge", Script::<charge>::new().ok(receipt("state")))
        .register::<QuickCheckout>()
        .build()
        .unwrap();
    let run = harness.run::<QuickCheckout>(order()).await;
    assert_eq!(run.output().unwrap().transaction, "state");
}

#[workflow::test]
async fn unmocked_steps_still_need_their_resources() {
    let error = Harness::builder()
        .register::<QuickCheckout>()
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("Gateway"), "{error}");
}

/// The message of the panic `check` raises.
fn panic_message(check: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check))
        .expect_err("the assertion should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[workflow::test]
async fn failed_assertions_say_what_happened_instead() {
    let harness = Harness::builder()
        .mock(Script::<charge>::new().err(PaymentError::Declined))
        .register::<Checkout>()
        .build()
        .unwrap();
    let run = harness.run::<Checkout>(order()).await;

    let path = panic_message(|| {
        run.expect().path(["Charge", "Notify"]);
    });
    assert!(
        path.contains("the states entered at the top level differ"),
        "{path}"
    );
    assert!(path.contains(" Charge\n-Notify\n+Declined"), "{path}");
    assert!(path.contains("the history:"), "{path}");

    let attempts = panic_message(|| {
        run.expect().attempts("Charge", 3);
    });
    assert!(
        attempts.contains("expected 3 attempt(s) of `Charge`; there were 1:\n  attempt 1: TaskFailed PaymentError.Declined (the card was declined)"),
        "{attempts}"
    );

    let caught = panic_message(|| {
        run.expect()
            .caught("Charge", "PaymentError.GatewayTimeout", "Declined");
    });
    assert!(
        caught.contains("expected `Charge` to catch `PaymentError.GatewayTimeout` and go to `Declined`; `PaymentError.Declined` → `Declined`"),
        "{caught}"
    );

    let failed = panic_message(|| {
        run.expect().failed_with("PaymentError.Declined");
    });
    assert!(failed.contains("it succeeded"), "{failed}");
}

#[workflow::test]
async fn one_state_on_its_own() {
    let harness = Harness::builder()
        .mock(
            Script::<charge>::new()
                .ok(receipt("t-9"))
                .err(PaymentError::Declined)
                .err(PaymentError::GatewayTimeout)
                .err(PaymentError::GatewayTimeout)
                .ok(receipt("t-10"))
                .err(PaymentError::GatewayTimeout),
        )
        .register::<Checkout>()
        .build()
        .unwrap();

    // Success ends the execution (`-> end`) with the step's output.
    let paid = harness.state::<Checkout>("Charge").run(order()).await;
    assert_eq!(paid.next_state(), None);
    assert_eq!(paid.output::<Receipt>(), Some(receipt("t-9")));
    assert!(matches!(
        paid.outcome(),
        workflow::testing::StateOutcome::End { .. }
    ));

    // A declined card goes to the catcher's state, with the `Caught` as its input.
    let declined = harness.state::<Checkout>("Charge").run(order()).await;
    assert_eq!(declined.next_state(), Some("Declined"));
    let caught: Caught<Order> = declined.output().unwrap();
    assert_eq!(caught.error, "PaymentError.Declined");
    assert_eq!(caught.input, order());
    declined
        .expect()
        .caught("Charge", "PaymentError.Declined", "(nothing)");

    // Retries happen inside the state, on virtual time.
    let retried = harness.state::<Checkout>("Charge").run(order()).await;
    assert_eq!(retried.output::<Receipt>(), Some(receipt("t-10")));
    retried.expect().attempts("Charge", 3);
    assert_eq!(retried.elapsed(), Duration::from_secs(180));

    // With every retry used up, the next timeout fails the state.
    let exhausted = harness
        .state::<Checkout>("Charge")
        .retried(3)
        .run(order())
        .await;
    assert_eq!(
        exhausted.failure().map(|f| f.error()),
        Some("PaymentError.GatewayTimeout")
    );
    exhausted.expect().attempts("Charge", 1);

    // A state that takes a `Caught`, tested with one made by hand.
    let recorded = harness
        .state::<Checkout>("Declined")
        .run(serde_json::json!({
            "input": order(),
            "state": "Charge",
            "error": "PaymentError.Declined",
            "cause": "the card was declined",
        }))
        .await;
    assert_eq!(
        recorded.output::<Receipt>().map(|r| r.transaction),
        Some("declined: PaymentError.Declined".to_owned())
    );

    // An input of the wrong shape is the test's mistake, reported as such.
    let wrong = harness
        .state::<Checkout>("Charge")
        .run("not an order")
        .await;
    assert!(
        wrong
            .failure()
            .unwrap()
            .cause()
            .starts_with("the test input does not read as the state's input"),
        "{:?}",
        wrong.failure()
    );
}

#[workflow::test]
async fn an_unknown_state_lists_the_real_ones() {
    let harness = Harness::builder()
        .mock(Script::<charge>::new())
        .register::<Checkout>()
        .build()
        .unwrap();
    let message = tokio::spawn(async move {
        harness.state::<Checkout>("Refund").run(order()).await;
    })
    .await
    .unwrap_err()
    .into_panic();
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.ends_with("`Checkout` has no state `Refund`; its states: Charge, Declined"),
        "{message}"
    );
}
