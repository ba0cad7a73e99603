#[path = "../fixtures/checkout.rs"]
mod checkout;

use std::time::Duration;

use checkout::*;
use workflow::prelude::*;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Batch {
    orders: Vec<Order>,
    share: String,
}

// A timeout given twice, once as written and once from the input; a wait with neither a
// duration nor `for`/`until`.
workflow! {
    Twice: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end, timeout 10s, timeout |_order: &Order| Duration::from_secs(5);
    }
}

workflow! {
    Pause: Standard<Order, Order> {
        start Wait;
        Wait: wait |_order: &Order| Duration::from_secs(5) -> end;
    }
}

// A function of the wrong input type, and one returning the wrong type.
workflow! {
    Timed: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end, timeout |_batch: &Batch| Duration::from_secs(5);
    }
}

workflow! {
    Each: Standard<Batch, Vec<Result<Receipt, Caught<Order>>>> {
        start Each;
        Each: map |batch: &Batch| batch.orders.clone() {
            start Charge;
            Charge: task charge -> end;
        } -> end, tolerate |batch: &Batch| batch.share.clone() %;
    }
}

fn main() {}
