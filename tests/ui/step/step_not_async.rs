use workflow::prelude::*;

#[step]
fn validate(order: String) -> String {
    order
}

fn main() {}
