#[path = "fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: tsak validate -> Charge;
        Charge: task charge;
        Rejected: fail;
    }
}

fn main() {}
