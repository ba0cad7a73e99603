#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// The branches output `(Order, Receipt)`; the workflow's output is `Receipt`.
workflow! {
    Split: Standard<Order, Receipt> {
        start Fork;
        Fork: parallel {
            branch {
                start Check;
                Check: task validate -> end;
            }
            branch {
                start Pay;
                Pay: task charge -> end;
            }
        } -> end;
    }
}

fn main() {}
