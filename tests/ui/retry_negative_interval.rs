use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Clone, Serialize, Deserialize)]
pub struct Order;
#[derive(Serialize, Deserialize)]
pub struct Receipt;

#[derive(Debug, thiserror::Error, StepError)]
pub enum PaymentError {
    #[error("declined")]
    Declined,
    #[error("timed out")]
    GatewayTimeout,
}

#[derive(Debug, thiserror::Error, StepError)]
pub enum MailError {
    #[error("bounced")]
    Bounced,
}

#[step]
async fn charge(_order: Order) -> Result<Receipt, PaymentError> {
    Ok(Receipt)
}

#[step]
async fn hold(_failed: Caught<Order>) -> Receipt {
    Receipt
}

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end, retry PaymentError::GatewayTimeout { interval: -3s };
    }
}

fn main() {}
