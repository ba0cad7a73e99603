#[path = "../fixtures/checkout.rs"]
mod checkout;

use checkout::*;
use workflow::prelude::*;

mod zero {
    use super::*;
    workflow! {
        #[version(0)]
        pub Checkout: Standard<Order, Receipt> {
            start Charge;
            Charge: task charge -> end;
        }
    }
}

mod text {
    use super::*;
    workflow! {
        #[version("2")]
        pub Checkout: Standard<Order, Receipt> {
            start Charge;
            Charge: task charge -> end;
        }
    }
}

mod bare {
    use super::*;
    workflow! {
        #[version]
        pub Checkout: Standard<Order, Receipt> {
            start Charge;
            Charge: task charge -> end;
        }
    }
}

mod twice {
    use super::*;
    workflow! {
        #[version(2)]
        #[version(3)]
        pub Checkout: Standard<Order, Receipt> {
            start Charge;
            Charge: task charge -> end;
        }
    }
}

fn main() {}
