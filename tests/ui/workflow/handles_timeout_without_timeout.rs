#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry States::Timeout,
            catch States::HeartbeatTimeout -> Hold;
        Hold: task hold -> end;
    }
}

fn main() {}
