#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> end;
    }
}

workflow! {
    Checkout2: Standard<Order, Receipt> {
        start Validate;
        Validate: task validate -> Done;
        Done: succeed;
    }
}

fn main() {}
