#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

fn code_of(_order: &Order) -> String {
    "Order.Refused".to_owned()
}

// A computed error over another type than what reaches the state; a computed cause whose type
// nothing gives (the Pass state's function says no return type); a computed error that is not
// text.
workflow! {
    Refuse: Standard<Order, Receipt> {
        start Route;
        Route: choice {
            |_order: &Order| true => Wrong,
            _ => Shape,
        };
        Wrong: fail |_receipt: &Receipt| String::new();
        Shape: pass |order: Order| order -> Unknown;
        Unknown: fail "Order.Refused", cause code_of;
    }
}

workflow! {
    NotText: Standard<Order, Receipt> {
        start Refused;
        Refused: fail |_order: &Order| 42;
    }
}

fn main() {}
