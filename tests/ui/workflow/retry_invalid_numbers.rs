#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry PaymentError::GatewayTimeout { backoff: 0.5, interval: 10s, max_delay: 5s },
            retry PaymentError::Declined { max_attempts: 100000000, jitter: some, retries: 3 };
    }
}

fn main() {}
