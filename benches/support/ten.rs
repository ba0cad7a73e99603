//! The workflow the durable benchmarks run: ten no-op task states in a row.

use workflow::prelude::*;

#[step]
async fn bump(value: u64) -> u64 {
    value + 1
}

workflow! {
    /// Ten task states in a row.
    pub(crate) Ten: Standard<u64, u64> {
        start S1;
        S1: task bump -> S2;
        S2: task bump -> S3;
        S3: task bump -> S4;
        S4: task bump -> S5;
        S5: task bump -> S6;
        S6: task bump -> S7;
        S7: task bump -> S8;
        S8: task bump -> S9;
        S9: task bump -> S10;
        S10: task bump -> end;
    }
}
