use workflow::prelude::*;

#[step]
async fn echo<T: Send>(value: T) -> T {
    value
}

#[step]
async fn borrow(value: &str) -> usize {
    value.len()
}

fn main() {}
