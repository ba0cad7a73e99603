#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// A rule into `end`; a rule over another type. (No default is allowed: when no rule holds,
// the state fails with `States.NoChoiceMatched`.)
workflow! {
    Routing: Standard<Order, Receipt> {
        start Route;
        Route: choice {
            |_order: &Order| true => Charge,
            |receipt: &Receipt| false => end,
        };
        Charge: task charge -> end;
    }
}

// The default is not last.
workflow! {
    Routing2: Standard<Order, Receipt> {
        start Route;
        Route: choice {
            _ => Charge,
            |_order: &Order| true => Charge,
        };
        Charge: task charge -> end;
    }
}

fn main() {}
