use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Order;
#[derive(Serialize, Deserialize)]
struct ValidOrder;
#[derive(Serialize, Deserialize)]
struct Receipt;

#[step]
async fn validate(order: Order) -> Order {
    order
}

#[step]
async fn charge(_order: ValidOrder) -> Receipt {
    Receipt
}

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> Charge;
        Charge: task charge -> end;
    }
}

fn main() {}
