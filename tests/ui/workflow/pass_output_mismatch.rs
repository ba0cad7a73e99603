#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

fn summarise(_order: Order) -> Receipt {
    Receipt
}

// `summarise` returns a `Receipt`; `Validate` takes an `Order`.
workflow! {
    Summary: Standard<Order, Order> {
        start Summarise;
        Summarise: pass summarise -> Validate;
        Validate: task validate -> end;
    }
}

fn main() {}
