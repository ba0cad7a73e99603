//! Smoke test.
use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Order {
    id: u64,
    amount: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Receipt {
    id: u64,
}

#[derive(Debug, thiserror::Error, StepError)]
enum PaymentError {
    #[error("declined")]
    Declined,
    #[error("timeout after {0}ms")]
    Timeout(u64),
}

struct Gateway;

#[step(timeout = "10s")]
async fn validate(order: Order) -> Order {
    order
}

#[step]
async fn charge(
    order: Order,
    ctx: StepContext,
    _gateway: Res<Gateway>,
) -> Result<Receipt, PaymentError> {
    assert_eq!(ctx.state(), "Charge");
    if order.amount > 100 {
        Err(PaymentError::Declined)
    } else {
        Ok(Receipt { id: order.id })
    }
}

workflow! {
    /// Test.
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> Charge;
        Charge: task charge -> Done;
        Done: succeed;
    }
}

#[tokio::test]
async fn runs() {
    let runtime = Runtime::builder()
        .resource(Gateway)
        .register::<Checkout>()
        .build()
        .unwrap();
    let ok = runtime
        .execute::<Checkout>(Order { id: 1, amount: 5 })
        .await
        .unwrap();
    println!("{}", ok.history().table());
    let bad = runtime
        .execute::<Checkout>(Order { id: 1, amount: 500 })
        .await
        .unwrap();
    println!("{}", bad.history().table());
    println!("{:?}", bad.failure());
    let _ = PaymentError::Timeout(1);
}
