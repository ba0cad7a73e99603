// A step whose `#[step]` or whose error type's `derive(StepError)` failed is reported once,
// at the mistake: the workflows naming it, its error's variants, or its timeout report nothing
// more.

#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::{Order, Receipt};
use workflow::prelude::*;

#[step(timout = "10s")]
async fn check(order: Order) -> Order {
    order
}

#[step]
fn reserve(order: Order) -> Order {
    order
}

#[step]
async fn pack(order: &Order) -> Order {
    order.clone()
}

#[step(timeout = "5s", heartbeat = "10s")]
async fn ship(order: Order) -> Result<Receipt, ShippingError> {
    let _ = order;
    Ok(Receipt)
}

#[derive(Debug, thiserror::Error, StepError)]
pub enum ShippingError {
    #[error("no carrier")]
    #[step_error(name = "States.NoCarrier")]
    NoCarrier,
    #[error("lost")]
    Lost,
}

workflow! {
    Fulfil: Standard<Order, Receipt> {
        start Check;
        Check: task check -> Reserve;
        Reserve: task reserve -> Pack;
        Pack: task pack -> Ship;
        Ship: task ship -> end,
            retry ShippingError::NoCarrier,
            retry "ShippingError.Lost",
            catch States::Timeout -> Failed;
        Failed: fail "Fulfil.Failed";
    }
}

fn main() {}
