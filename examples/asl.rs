//! Runs an Amazon States Language definition (`examples/definitions/order.asl.json`) on
//! this runtime, its Task states answered by Rust handlers; its tests run the same machine
//! with Step Functions Local's mock configuration instead (`order.mock.json`).
//!
//! ```text
//! cargo run --example asl --features asl
//! ```

use serde_json::{json, Value};
use workflow::asl::{AslWorkflow, Handlers, RegisterAsl, TaskCall, TaskError};
use workflow::{Mode, Runtime};

const ORDER: &str = include_str!("definitions/order.asl.json");

/// The order machine as the workflow `Order`, in memory (Express; Standard is durable).
fn order_workflow() -> Result<AslWorkflow, Box<dyn std::error::Error>> {
    Ok(AslWorkflow::from_json_str("Order", Mode::Express, ORDER)?)
}

/// The payment service: a Lambda function in AWS, a Rust function here.
async fn charge(call: TaskCall) -> Result<Value, TaskError> {
    let cents = call.input["cents"].as_u64().unwrap_or(0);
    if cents == 0 {
        return Err(TaskError::new("PaymentDeclined", "nothing to charge"));
    }
    Ok(json!({"receipt": format!("r-{}", call.input["order"]), "cents": cents}))
}

async fn ship(call: TaskCall) -> Result<Value, TaskError> {
    Ok(json!({"tracking": "TRACK-1", "label": call.input["label"]}))
}

fn handlers() -> Handlers {
    Handlers::new()
        .resource(
            "arn:aws:lambda:us-east-1:123456789012:function:Charge",
            charge,
        )
        .resource("arn:aws:lambda:us-east-1:123456789012:function:Ship", ship)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let order = order_workflow()?;
    let runtime = Runtime::builder()
        .resource(handlers())
        .register_asl(&order)
        .build()?;
    let input = json!({"id": 7, "total": 250, "items": ["tea", "cups"]});
    let execution = runtime.execute_json("Order", input).await?;
    print!("{}", execution.history().table());
    match execution.result() {
        Ok(output) => println!("output: {output}"),
        Err(failure) => println!("failed: {failure}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use workflow::{ExecutionStatus, VirtualClock};

    /// The order machine run with test case `case` of the mock configuration.
    async fn run_case(case: &str, input: Value) -> workflow::Execution<Value> {
        let config: Value =
            serde_json::from_str(include_str!("definitions/order.mock.json")).unwrap();
        let handlers = Handlers::from_mock_config(&config, "Order", case, "Order").unwrap();
        let runtime = Runtime::builder()
            .resource(handlers)
            .clock(VirtualClock::new())
            .register_asl(&order_workflow().unwrap())
            .build()
            .unwrap();
        runtime.execute_json("Order", input).await.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn the_happy_path_retries_the_busy_payment_then_ships() {
        let execution = run_case("HappyPath", json!({"id": 7, "total": 250, "items": []})).await;
        assert_eq!(
            execution.output(),
            Some(&json!({
                "id": 7, "total": 250, "items": [],
                "payment": {"receipt": "r-1"},
                "shipment": {"tracking": "TRACK-1"}
            }))
        );
        let failed_attempts = execution
            .history()
            .events()
            .iter()
            .filter(|event| event.kind.name() == "LambdaFunctionFailed")
            .count();
        assert_eq!(failed_attempts, 1, "the busy payment is retried once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_declined_payment_is_caught_and_fails_with_its_cause() {
        let execution = run_case("Declined", json!({"id": 8, "total": 90, "items": []})).await;
        assert_eq!(execution.status(), ExecutionStatus::Failed);
        let failure = execution.failure().unwrap();
        assert_eq!(
            (failure.error(), failure.cause()),
            ("Declined", "card expired")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn orders_over_the_limit_are_refused_before_any_charge() {
        let execution = run_case("HappyPath", json!({"id": 9, "total": 5000, "items": []})).await;
        assert_eq!(execution.failure().map(|f| f.error()), Some("OverLimit"));
        assert!(execution
            .history()
            .events()
            .iter()
            .all(|e| e.kind.name() != "LambdaFunctionScheduled"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_rust_handlers_charge_and_ship() {
        let runtime = Runtime::builder()
            .resource(handlers())
            .clock(VirtualClock::new())
            .register_asl(&order_workflow().unwrap())
            .build()
            .unwrap();
        let input = json!({"id": 7, "total": 250, "items": ["tea", "cups"]});
        let execution = runtime.execute_json("Order", input).await.unwrap();
        let output = execution.output().unwrap();
        assert_eq!(output["payment"], json!({"receipt": "r-7"}));
        assert_eq!(output["shipment"]["label"], json!("Order 7 (2 items)"));
    }
}
