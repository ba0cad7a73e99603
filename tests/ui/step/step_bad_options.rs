use workflow::prelude::*;

#[step(timout = "10s")]
async fn a(value: u64) -> u64 {
    value
}

#[step(timeout = "ten seconds")]
async fn b(value: u64) -> u64 {
    value
}

#[step(timeout = "5s", heartbeat = "10s")]
async fn c(value: u64) -> u64 {
    value
}

#[step(name = "has spaces")]
async fn d(value: u64) -> u64 {
    value
}

fn main() {}
