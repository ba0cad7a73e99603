#[path = "../fixtures/checkout.rs"]
mod checkout;

use std::time::{Duration, SystemTime};

use checkout::*;
use workflow::prelude::*;

// Every state here receives an `Order`; each function over its input takes a `Receipt`: one
// error per function, at its parameter's type, saying what the state receives.
workflow! {
    Pauses: Standard<Order, Order> {
        start For;
        For: wait for |_receipt: &Receipt| Duration::from_secs(1) -> Until;
        Until: wait until |_receipt: &Receipt| SystemTime::UNIX_EPOCH -> end;
    }
}

workflow! {
    Timed: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end, heartbeat |_receipt: &Receipt| Duration::from_secs(1);
    }
}

workflow! {
    Each: Standard<Order, Vec<Result<Order, Caught<Order>>>> {
        start Each;
        Each: map |_receipt: &Receipt| -> Vec<Order> { Vec::new() } {
            start Check;
            Check: task validate -> end;
        } -> end,
            max_concurrency |_receipt: &Receipt| 2,
            tolerate |_receipt: &Receipt| 10.0 %;
    }
}

workflow! {
    Refuse: Standard<Order, Receipt> {
        start Refused;
        Refused: fail "Order.Refused", cause |_receipt: &Receipt| String::new();
    }
}

fn main() {}
