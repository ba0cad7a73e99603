#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// Three mistakes, three errors: an unknown target, a duplicate state and a type mismatch.
workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> Chrage;
        Charge: task validate -> end;
        Charge: task charge -> end;
    }
}

fn main() {}
