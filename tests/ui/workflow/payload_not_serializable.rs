use serde::{Deserialize, Serialize};
use workflow::prelude::*;

// Neither derives `Serialize` and `Deserialize`: payloads are recorded as JSON.
#[derive(Clone)]
struct Order;

struct Receipt;

#[derive(Serialize, Deserialize)]
struct Ticket;

#[step]
async fn charge(_order: Order) -> Receipt {
    Receipt
}

#[step]
async fn issue(_receipt: Receipt) -> Ticket {
    Ticket
}

workflow! {
    Checkout: Standard<Order, Ticket> {
        start Charge;
        Charge: task charge -> Issue;
        Issue: task issue -> end;
    }
}

fn main() {}
