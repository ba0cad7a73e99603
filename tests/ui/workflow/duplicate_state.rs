#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> Charge;
        Charge: task charge -> end;
        Validate: task validate -> Charge;
    }
}

fn main() {}
