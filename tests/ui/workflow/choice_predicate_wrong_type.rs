#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// `Route` receives the workflow's input, an `Order`; its predicate takes a `Receipt`.
workflow! {
    Routing: Standard<Order, Receipt> {
        start Route;
        Route: choice {
            |_receipt: &Receipt| true => Charge,
            _ => Charge,
        };
        Charge: task charge -> end;
    }
}

fn main() {}
