#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// Every branch target takes the Choice's input type; `Hold` takes `Caught<Order>`.
workflow! {
    Routing: Standard<Order, Receipt> {
        start Route;
        Route: choice {
            |_order: &Order| true => Charge,
            _ => Hold,
        };
        Charge: task charge -> end;
        Hold: task hold -> end;
    }
}

fn main() {}
