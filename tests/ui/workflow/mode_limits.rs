use workflow::prelude::*;

#[step(timeout = "10m")]
async fn slow(value: u64) -> u64 {
    value
}

#[step]
async fn quick(value: u64) -> u64 {
    value
}

workflow! {
    Fast: Express<u64, u64> {
        timeout 10m;
        start Quick;
        Quick: task quick -> Slow, timeout 6m;
        Slow: task slow -> end;
    }
}

workflow! {
    Long: Standard<u64, u64> {
        timeout 400d;
        start Quick;
        Quick: task quick -> end, timeout 10s, heartbeat 10s;
    }
}

fn main() {}
