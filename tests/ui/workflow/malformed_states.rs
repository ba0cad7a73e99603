#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: tsak validate -> Charge;
        Charge: task charge;
        Rejected: fail "Order.Rejected", reason "too big";
    }
}

fn main() {}
