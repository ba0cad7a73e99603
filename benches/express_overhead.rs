//! Express overhead: a synchronous Express execution of a 10-state workflow of no-op steps,
//! next to a hand-written async chain calling the same 10 functions (the floor). The
//! difference divided by 10 is the engine's cost per state transition.
//!
//! ```text
//! cargo bench --bench express_overhead
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // A benchmark binary.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use workflow::prelude::*;

#[step]
async fn s1(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s2(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s3(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s4(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s5(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s6(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s7(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s8(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s9(value: u64) -> u64 {
    value + 1
}
#[step]
async fn s10(value: u64) -> u64 {
    value + 1
}

workflow! {
    Ten: Express<u64, u64> {
        start A;
        A: task s1 -> B;
        B: task s2 -> C;
        C: task s3 -> D;
        D: task s4 -> E;
        E: task s5 -> F;
        F: task s6 -> G;
        G: task s7 -> H;
        H: task s8 -> I;
        I: task s9 -> J;
        J: task s10 -> end;
    }
}

/// The floor: the same ten functions, awaited one after the other.
async fn chain(value: u64) -> u64 {
    let value = s1(value).await;
    let value = s2(value).await;
    let value = s3(value).await;
    let value = s4(value).await;
    let value = s5(value).await;
    let value = s6(value).await;
    let value = s7(value).await;
    let value = s8(value).await;
    let value = s9(value).await;
    s10(value).await
}

fn express_overhead(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime = Runtime::builder().register::<Ten>().build().unwrap();
    let mut group = c.benchmark_group("express_overhead");
    group.throughput(Throughput::Elements(10));
    group.bench_function("hand-written chain of 10 steps", |b| {
        b.to_async(&tokio)
            .iter(|| async { std::hint::black_box(chain(std::hint::black_box(1)).await) })
    });
    group.bench_function(
        "Express workflow of 10 task states (history recorded)",
        |b| {
            b.to_async(&tokio).iter_batched(
                || runtime.clone(),
                |runtime| async move {
                    let execution = runtime
                        .execute::<Ten>(std::hint::black_box(1))
                        .await
                        .unwrap();
                    assert_eq!(execution.output(), Some(&11));
                },
                BatchSize::SmallInput,
            )
        },
    );
    group.bench_function("Express workflow of 10 task states (result only)", |b| {
        b.to_async(&tokio).iter_batched(
            || runtime.clone(),
            |runtime| async move {
                let output = runtime.call::<Ten>(std::hint::black_box(1)).await.unwrap();
                assert_eq!(output, Ok(11));
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, express_overhead);
criterion_main!(benches);
