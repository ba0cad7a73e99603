#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Receipt, Receipt> {
        start Validate;
        Validate: task validate -> Charge;
        Charge: task charge -> end;
    }
}

fn main() {}
