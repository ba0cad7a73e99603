#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> Chrage;
        Charge: task charge -> end;
    }
}

fn main() {}
