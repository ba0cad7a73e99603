use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Order;

#[step]
async fn validate(order: Order) -> Order {
    order
}

#[step]
async fn recheck(order: Order) -> Order {
    order
}

workflow! {
    // Validate and Recheck hand the order back and forth forever.
    Checkout: Standard<Order, Order> {
        start Validate;
        Validate: task validate -> Recheck;
        Recheck: task recheck -> Validate;
    }
}

fn main() {}
