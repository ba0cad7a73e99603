#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry States::ALL,
            retry PaymentError::GatewayTimeout | States::ALL,
            catch States::ALL -> Hold,
            catch PaymentError::Declined -> Hold;
        Hold: task hold -> end;
    }
}

fn main() {}
