use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Order;

#[step]
async fn validate(order: Order) -> Order {
    order
}

// `charge` is a plain function, not a step.
async fn charge(_order: Order) -> Order {
    Order
}

workflow! {
    Checkout: Standard<Order, Order> {
        start Validate;
        Validate: task validate -> Charge;
        Charge: task charge -> end;
    }
}

fn main() {}
