#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// A branch without a start; a transition out of a branch; an unreachable state inside a
// branch; an option a Parallel state does not take. (One branch is allowed.)
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

// No branch at all.
workflow! {
    Split3: Standard<Order, ()> {
        start Fork;
        Fork: parallel {} -> end;
    }
}

fn main() {}
