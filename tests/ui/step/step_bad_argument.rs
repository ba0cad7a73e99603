use workflow::prelude::*;

#[step]
async fn charge(amount: u64, retries: u32) -> u64 {
    amount * u64::from(retries)
}

fn main() {}
