#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Batch {
    orders: Vec<Order>,
}

// `max_concurrency` on a task; a tolerated share over 100 %; an item type the iteration does
// not take (the selector yields `Order`s, the iteration starts with a step over `Receipt`).
workflow! {
    Each: Standard<Batch, Vec<Receipt>> {
        start Prepare;
        Prepare: task prepare -> Each, max_concurrency 3;
        Each: map |batch: &Batch| batch.orders.clone() {
            start Confirm;
            Confirm: task confirm -> end;
        } -> end, tolerate 150%;
    }
}

// An iteration that only fails, so nothing in it says what the items are, and a selector
// whose return type is not annotated.
workflow! {
    Refuse: Standard<Batch, Vec<Never>> {
        start Each;
        Each: map |batch: &Batch| batch.orders.clone() {
            start Refused;
            Refused: fail "Order.Refused";
        } -> end;
    }
}

#[step]
async fn prepare(batch: Batch) -> Batch {
    batch
}

#[step]
async fn confirm(receipt: Receipt) -> Receipt {
    receipt
}

fn main() {}
