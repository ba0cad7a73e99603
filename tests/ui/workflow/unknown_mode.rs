#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standrad<Order, Receipt> {
        start Validate;
        Validate: task validate -> Charge;
        Charge: task charge -> end;
    }
}

fn main() {}
