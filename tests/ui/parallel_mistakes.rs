#[path = "fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// One branch only; a branch without a start; a transition out of a branch; an unreachable
// state inside a branch; an option a Parallel state does not take.
workflow! {
    Split: Standard<Order, Receipt> {
        start Fork;
        Fork: parallel {
            branch {
                Check: task validate -> Finish;
            }
        } -> Done, timeout 10s;
        Finish: task charge -> end;
        Done: succeed;
    }
}

workflow! {
    Split2: Standard<Order, (Order, Order)> {
        start Fork;
        Fork: parallel {
            branch {
                start First;
                First: task validate -> end;
                Stray: task validate -> end;
            }
            branch {
                start Second;
                Second: task validate -> end;
            }
        } -> end;
    }
}

fn main() {}
