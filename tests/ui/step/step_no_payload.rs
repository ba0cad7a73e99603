use workflow::prelude::*;

#[step]
async fn tick() -> u32 {
    1
}

fn main() {}
