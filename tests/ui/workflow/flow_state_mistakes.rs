#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

fn summarise(_order: Order) -> Receipt {
    Receipt
}

// An Express wait over five minutes; a Pass whose output type only rustc knows, feeding a
// Choice with no annotation, so the Choice's input type cannot be worked out.
workflow! {
    Fast: Express<Order, Receipt> {
        start Pause;
        Pause: wait 10m -> Summarise;
        Summarise: pass summarise -> Route;
        Route: choice {
            is_ready => Done,
            _ => Done,
        };
        Done: succeed;
    }
}

fn is_ready(_receipt: &Receipt) -> bool {
    true
}

fn main() {}
