use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Order;
#[derive(Serialize, Deserialize)]
struct Receipt;

#[step]
async fn validate(order: Order) -> Order {
    order
}

#[step]
async fn charge(_order: Order) -> Receipt {
    Receipt
}

// Three mistakes, three errors: an unknown target, a duplicate state and a type mismatch.
workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> Chrage;
        Charge: task validate -> end;
        Charge: task charge -> end;
    }
}

fn main() {}
