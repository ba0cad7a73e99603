#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// A string names an error the step's error type does not have.
workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end, catch "PaymentError.Stolen" -> Hold;
        Hold: task hold -> end;
    }
}

fn main() {}
