#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

#[step]
async fn refund(_order: Order) -> Receipt {
    Receipt
}

workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end, catch PaymentError::Declined -> Refund;
        Refund: task refund -> end;
    }
}

fn main() {}
