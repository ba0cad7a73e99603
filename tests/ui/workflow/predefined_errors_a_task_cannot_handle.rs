#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry States::Runtime,
            retry States::Timout,
            catch States::BranchFailed -> Hold,
            catch States::NoChoiceMatched -> Hold,
            catch PaymentError::Declined -> end;
        Hold: task hold -> end;
    }
}

fn main() {}
