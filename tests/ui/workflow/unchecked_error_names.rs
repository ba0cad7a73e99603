#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

// `unchecked` takes error names given as strings as written (the retrier below is accepted,
// though `charge` never raises "Upstream.Busy"); a path after it is refused, since the
// compiler checks paths.
workflow! {
    Checkout: Standard<Order, Receipt> {
        start Charge;
        Charge: task charge -> end,
            retry unchecked "Upstream.Busy",
            retry unchecked PaymentError::Declined,
            catch unchecked "Upstream.Busy" | States::ALL -> Hold;
        Hold: task hold -> end;
    }
}

fn main() {}
