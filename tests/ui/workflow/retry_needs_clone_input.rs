use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Order;

#[derive(Debug, thiserror::Error, StepError)]
pub enum PaymentError {
    #[error("timed out")]
    GatewayTimeout,
}

#[step]
async fn charge(order: Order) -> Result<Order, PaymentError> {
    Ok(order)
}

workflow! {
    Checkout: Standard<Order, Order> {
        start Charge;
        Charge: task charge -> end, retry PaymentError::GatewayTimeout;
    }
}

fn main() {}
