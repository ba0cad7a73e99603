//! An order workflow: validate the order, charge the card, e-mail a confirmation.
//!
//! The payment gateway is flaky (it times out now and then) so the charge is retried with
//! exponential backoff and jitter; a declined card is caught and the customer is told; an
//! invalid order ends in a Fail state. Each run prints its result and its full history.
//!
//! Executions are durable, in a SQLite file (`orders.db`, or the path given as argument).
//! Each order's id names its execution, so running the example twice starts nothing twice:
//! the second run finds the executions and prints their stored histories.
//!
//! ```text
//! cargo run --example order
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::render;
use workflow::store::{ExecutionFilter, SqliteStore};
use workflow::{History, RuntimeError};

// ---------------------------------------------------------------------------------------------
// Payloads: what travels from state to state.

/// An order as it arrives.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Order {
    id: String,
    email: String,
    card: String,
    lines: Vec<Line>,
}

/// One line of an order.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    sku: String,
    quantity: u32,
    unit_price_cents: u64,
}

/// An order that passed validation, with its total.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ValidOrder {
    order: Order,
    total_cents: u64,
}

/// Proof of payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Receipt {
    order_id: String,
    email: String,
    charged_cents: u64,
    transaction: String,
}

/// What the customer was told.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Confirmation {
    order_id: String,
    sent_to: String,
    message: String,
}

// ---------------------------------------------------------------------------------------------
// Errors, each variant with a Step Functions–style name (`PaymentError.Declined`, ...).

#[derive(Debug, thiserror::Error, StepError)]
enum ValidationError {
    #[error("the order has no lines")]
    Empty,
    #[error("`{0}` is not an e-mail address")]
    InvalidEmail(String),
    #[error("{sku}: {quantity} is more than the 100 per order we ship")]
    TooMany { sku: String, quantity: u32 },
}

#[derive(Debug, thiserror::Error, StepError)]
enum PaymentError {
    #[error("the card was declined")]
    Declined,
    #[error("the payment gateway did not answer in time")]
    GatewayTimeout,
}

// ---------------------------------------------------------------------------------------------
// Resources: shared clients handed to the steps that ask for them.

/// A stand-in for a payment provider's client: times out on the first two calls for a card,
/// declines cards starting with 4000.
#[derive(Default)]
struct PaymentGateway {
    calls_per_card: Mutex<HashMap<String, u32>>,
}

impl PaymentGateway {
    async fn charge(&self, card: &str, cents: u64) -> Result<String, PaymentError> {
        let calls = {
            let mut calls = self
                .calls_per_card
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let count = calls.entry(card.to_owned()).or_default();
            *count += 1;
            *count
        };
        if card.starts_with("4000") {
            return Err(PaymentError::Declined);
        }
        if calls <= 2 {
            return Err(PaymentError::GatewayTimeout);
        }
        Ok(format!(
            "txn-{}-{cents}",
            &card[card.len().saturating_sub(4)..]
        ))
    }
}

/// A stand-in for an e-mail client: keeps what it sends.
#[derive(Default)]
struct Mailer {
    sent: Mutex<Vec<(String, String)>>,
}

impl Mailer {
    fn send(&self, to: &str, body: &str) {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sent.push((to.to_owned(), body.to_owned()));
    }
}

// ---------------------------------------------------------------------------------------------
// Steps: plain async functions.

/// Checks the order and computes its total.
#[step]
async fn validate(order: Order) -> Result<ValidOrder, ValidationError> {
    if order.lines.is_empty() {
        return Err(ValidationError::Empty);
    }
    if !order.email.contains('@') {
        return Err(ValidationError::InvalidEmail(order.email.clone()));
    }
    if let Some(line) = order.lines.iter().find(|line| line.quantity > 100) {
        return Err(ValidationError::TooMany {
            sku: line.sku.clone(),
            quantity: line.quantity,
        });
    }
    let total_cents = order
        .lines
        .iter()
        .map(|line| u64::from(line.quantity) * line.unit_price_cents)
        .sum();
    Ok(ValidOrder { order, total_cents })
}

/// Charges the customer's card.
#[step(timeout = "10s")]
async fn charge(
    valid: ValidOrder,
    ctx: StepContext,
    gateway: Res<PaymentGateway>,
) -> Result<Receipt, PaymentError> {
    let transaction = gateway.charge(&valid.order.card, valid.total_cents).await?;
    println!(
        "    charged {} on attempt {}",
        valid.order.id,
        ctx.attempt()
    );
    Ok(Receipt {
        order_id: valid.order.id,
        email: valid.order.email,
        charged_cents: valid.total_cents,
        transaction,
    })
}

/// E-mails the receipt.
#[step]
async fn send_confirmation(receipt: Receipt, mailer: Res<Mailer>) -> Confirmation {
    let message = format!(
        "Thank you! We charged ${}.{:02} for order {} ({}).",
        receipt.charged_cents / 100,
        receipt.charged_cents % 100,
        receipt.order_id,
        receipt.transaction
    );
    mailer.send(&receipt.email, &message);
    Confirmation {
        order_id: receipt.order_id,
        sent_to: receipt.email,
        message,
    }
}

/// Tells the customer their payment failed.
#[step]
async fn report_payment_failure(failed: Caught<ValidOrder>, mailer: Res<Mailer>) -> Confirmation {
    let message = format!(
        "We could not charge your card for order {}: {}.",
        failed.input.order.id, failed.cause
    );
    mailer.send(&failed.input.order.email, &message);
    Confirmation {
        order_id: failed.input.order.id,
        sent_to: failed.input.order.email,
        message,
    }
}

// ---------------------------------------------------------------------------------------------
// The workflow: checked when this file compiles.

workflow! {
    /// Takes an order from validation to a confirmation e-mail.
    OrderWorkflow: Standard<Order, Confirmation> {
        timeout 1h;
        start Validate;

        /// Refuse orders we cannot ship.
        Validate: task validate -> Charge,
            catch ValidationError::* -> Rejected;

        /// The gateway is flaky: retry its timeouts, but not a declined card.
        Charge: task charge -> Notify,
            retry PaymentError::GatewayTimeout { max_attempts: 3, interval: 200ms, backoff: 2.0, max_delay: 2s, jitter: full },
            catch PaymentError::Declined -> PaymentFailed;

        Notify: task send_confirmation -> end;

        PaymentFailed: task report_payment_failure -> Declined;
        Declined: fail "PaymentDeclined", cause "The customer's card was declined";
        Rejected: fail "OrderRejected", cause "The order failed validation";
    }
}

fn order(id: &str, email: &str, card: &str, lines: &[(&str, u32, u64)]) -> Order {
    Order {
        id: id.to_owned(),
        email: email.to_owned(),
        card: card.to_owned(),
        lines: lines
            .iter()
            .map(|(sku, quantity, unit_price_cents)| Line {
                sku: (*sku).to_owned(),
                quantity: *quantity,
                unit_price_cents: *unit_price_cents,
            })
            .collect(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
    if render::print_if_requested(OrderWorkflow::definition())? {
        return Ok(());
    }
    // Standard executions live in one SQLite file: no server, nothing to set up.
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "orders.db".to_owned());
    let runtime = Runtime::builder()
        .store(SqliteStore::open(&path)?)
        .resource(PaymentGateway::default())
        .resource(Mailer::default())
        .register::<OrderWorkflow>()
        .build()?;
    println!("store: {path}");
    // Executions a previous run left unfinished (a crash, Ctrl-C) go on where they stopped.
    let resumed = runtime.recover().await?.resumed;
    if !resumed.is_empty() {
        println!("resumed {} unfinished execution(s)", resumed.len());
    }

    let orders = [
        order(
            "A-1001",
            "ada@example.com",
            "5555444433331111",
            &[("book", 2, 1_250), ("pen", 3, 199)],
        ),
        order(
            "A-1002",
            "grace@example.com",
            "4000000000000002",
            &[("lamp", 1, 4_900)],
        ),
        order(
            "A-1003",
            "not-an-address",
            "5555444433332222",
            &[("mug", 1, 800)],
        ),
    ];
    for order in orders {
        let name = order.id.clone();
        println!("\n== order {name}");
        // The order id names the execution: starting it again does not charge twice.
        let id = match runtime.start_named::<OrderWorkflow>(&name, order).await {
            Ok(handle) => {
                match handle.result().await? {
                    Ok(confirmation) => println!("succeeded: {}", confirmation.message),
                    Err(failure) => println!("failed: {failure}"),
                }
                handle.id().clone()
            }
            Err(RuntimeError::ExecutionAlreadyExists { .. }) => {
                let filter = ExecutionFilter::all().workflow("OrderWorkflow").name(&name);
                let existing = runtime
                    .list(filter)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or("listed")?;
                println!(
                    "already started as execution {} ({:?}); not starting it again",
                    existing.id, existing.status
                );
                existing.id
            }
            Err(other) => return Err(other.into()),
        };
        // The history as the store holds it.
        let events = runtime.history(&id, 0, 1_000).await?;
        println!("\n{}", History::from(events).table());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use workflow::testing::{Harness, Script};

    fn order_of(card: &str) -> Order {
        order("T-1", "ada@example.com", card, &[("book", 2, 1_250)])
    }

    fn receipt(transaction: &str) -> Receipt {
        Receipt {
            order_id: "T-1".to_owned(),
            email: "ada@example.com".to_owned(),
            charged_cents: 2_500,
            transaction: transaction.to_owned(),
        }
    }

    /// A harness whose gateway is `charge`, with a real mailer.
    fn harness(charge: Script<super::charge>) -> Harness {
        Harness::builder()
            .resource(Mailer::default())
            .mock(charge)
            .register::<OrderWorkflow>()
            .build()
            .expect("builds")
    }

    #[workflow::test]
    async fn a_flaky_gateway_is_retried_until_it_answers() {
        let charge = Script::new()
            .err(PaymentError::GatewayTimeout)
            .err(PaymentError::GatewayTimeout)
            .ok(receipt("txn-1"));
        let run = harness(charge.clone())
            .run::<OrderWorkflow>(order_of("4242"))
            .await;

        run.expect()
            .succeeded()
            .path(["Validate", "Charge", "Notify"])
            .attempts("Charge", 3)
            .not_entered("PaymentFailed");
        assert!(run.output().is_some_and(|c| c.message.contains("txn-1")));
        // Two jittered delays: at most 200 ms, then 400 ms.
        assert!(run.elapsed() <= std::time::Duration::from_millis(600));
        assert_eq!(charge.calls(), 3);
    }

    #[workflow::test]
    async fn a_gateway_down_for_good_fails_the_order() {
        let charge = Script::new()
            .err(PaymentError::GatewayTimeout)
            .err(PaymentError::GatewayTimeout)
            .err(PaymentError::GatewayTimeout)
            .err(PaymentError::GatewayTimeout);
        let run = harness(charge).run::<OrderWorkflow>(order_of("4242")).await;

        // Three retries, then the timeout is not caught: only declines are.
        run.expect()
            .failed_with("PaymentError.GatewayTimeout")
            .attempts("Charge", 4)
            .path(["Validate", "Charge"]);
    }

    #[workflow::test]
    async fn a_declined_card_is_caught_and_the_customer_told() {
        let run = harness(Script::new().err(PaymentError::Declined))
            .run::<OrderWorkflow>(order_of("4000 0000"))
            .await;

        run.expect()
            .failed_with("PaymentDeclined")
            .path(["Validate", "Charge", "PaymentFailed", "Declined"])
            .attempts("Charge", 1)
            .caught("Charge", "PaymentError.Declined", "PaymentFailed");
    }

    #[workflow::test]
    async fn an_invalid_order_is_rejected_before_any_charge() {
        let charge = Script::new();
        let mut invalid = order_of("4242");
        invalid.email = "not-an-address".to_owned();
        let run = harness(charge.clone()).run::<OrderWorkflow>(invalid).await;

        run.expect()
            .failed_with("OrderRejected")
            .path(["Validate", "Rejected"])
            .caught("Validate", "ValidationError.InvalidEmail", "Rejected");
        assert_eq!(charge.calls(), 0);
    }

    #[workflow::test]
    async fn the_charge_state_alone_after_its_retries_are_used_up() {
        let harness = harness(Script::new().err(PaymentError::GatewayTimeout));
        let valid = ValidOrder {
            order: order_of("4242"),
            total_cents: 2_500,
        };

        let charge = harness
            .state::<OrderWorkflow>("Charge")
            .retried(3)
            .run(valid)
            .await;

        assert_eq!(
            charge.failure().map(|failure| failure.error()),
            Some("PaymentError.GatewayTimeout")
        );
        charge.expect().attempts("Charge", 1);
    }

    #[workflow::test]
    async fn the_real_gateway_times_out_twice_then_charges() {
        // No mock: the stand-in gateway of this example, on virtual time.
        let harness = Harness::builder()
            .resource(PaymentGateway::default())
            .resource(Mailer::default())
            .register::<OrderWorkflow>()
            .build()
            .expect("builds");
        let run = harness.run::<OrderWorkflow>(order_of("4242")).await;
        run.expect().succeeded().attempts("Charge", 3);
    }

    #[test]
    fn the_diagrams_are_as_reviewed() {
        // Its pictures, as reviewed (`UPDATE_GOLDEN=1` rewrites them after a change).
        let reviewed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
        workflow::testing::assert_diagrams(OrderWorkflow::definition(), reviewed);
    }

    /// The workflow's ASL export, run with the same steps as handlers, ends as the workflow
    /// does, through the same events (a Lambda function's read as a task's).
    #[cfg(feature = "asl")]
    #[tokio::test(start_paused = true)]
    async fn its_asl_export_runs_as_it_does() {
        use workflow::asl::{AslWorkflow, Handlers, RegisterAsl};
        use workflow::history::EventType;
        use workflow::{Mode, VirtualClock};

        let export = render::Asl::new().render(OrderWorkflow::definition());
        let exported = AslWorkflow::from_json_str("OrderAsl", Mode::Standard, &export)
            .expect("the export reads");
        // Each run on a runtime of its own: the gateway counts the calls per card.
        let runtime = || {
            Runtime::builder()
                .clock(VirtualClock::new())
                .resource(PaymentGateway::default())
                .resource(Mailer::default())
                .resource(
                    Handlers::new()
                        .step::<validate>()
                        .step::<charge>()
                        .step::<send_confirmation>()
                        .step::<report_payment_failure>(),
                )
                .register::<OrderWorkflow>()
                .register_asl(&exported)
                .build()
                .expect("builds")
        };
        let kinds = |history: &History| -> Vec<EventType> {
            history
                .events()
                .iter()
                .map(|event| event.kind.as_task_event())
                .collect()
        };
        let mut invalid = order_of("4242");
        invalid.email = "not-an-address".to_owned();
        for order in [order_of("4242"), order_of("4000000000000002"), invalid] {
            let native = runtime()
                .execute::<OrderWorkflow>(order.clone())
                .await
                .expect("runs");
            let input = serde_json::to_value(&order).expect("JSON");
            let asl = runtime()
                .execute_json("OrderAsl", input)
                .await
                .expect("runs");
            let output = native
                .output()
                .map(|output| serde_json::to_value(output).expect("JSON"));
            assert_eq!(asl.output(), output.as_ref(), "{}", order.card);
            assert_eq!(
                asl.failure()
                    .map(|failure| (failure.error(), failure.cause())),
                native
                    .failure()
                    .map(|failure| (failure.error(), failure.cause())),
                "{}",
                order.card
            );
            assert_eq!(
                kinds(asl.history()),
                kinds(native.history()),
                "{}",
                order.card
            );
        }
    }
}
