#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Validate: task validate -> Charge;
        Charge: task charge -> end;
    }
}

fn main() {}
