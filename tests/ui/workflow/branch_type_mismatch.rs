#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

fn receipt(_order: &Order) -> bool {
    true
}

// A branch starting with a state that does not take the Parallel state's input; a branch
// ending with two types; items that the iteration's start does not take.
workflow! {
    Split: Standard<Order, (Receipt, Receipt)> {
        start Fork;
        Fork: parallel {
            branch {
                start Refund;
                Refund: task hold -> end;
            }
            branch {
                start Route;
                Route: choice {
                    |order: &Order| receipt(order) => Pay,
                    _ => Done,
                };
                Pay: task charge -> end;
                Done: succeed;
            }
        } -> end;
    }
}

workflow! {
    Each: Standard<Order, Vec<Receipt>> {
        start Each;
        Each: map |_order: &Order| -> Vec<Receipt> { Vec::new() } {
            start Pay;
            Pay: task charge -> end;
        } -> end;
    }
}

fn main() {}
