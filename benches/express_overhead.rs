//! Express overhead: a synchronous Express execution of a 10-state workflow of no-op steps,
//! next to a hand-written async chain calling the same 10 functions (the floor). The
//! difference divided by 10 is the engine's cost per state transition.
//!
//! ```text
//! cargo bench --bench express_overhead
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // A benchmark binary.

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
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

workflow! {
    One: Express<u64, u64> {
        start A;
        A: task s1 -> end;
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

/// Rounds of the three runs, interleaved so that a machine's drift touches each alike; each
/// round times `ITERATIONS` of one run.
const ROUNDS: usize = 15;
const ITERATIONS: u32 = 20_000;

/// The figures the goals are stated in, from one run: nanoseconds per state transition above
/// the hand-written chain, for `call` (no history) and `execute` (every event recorded). The
/// median round of each.
fn overhead_per_transition() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime = Runtime::builder()
        .register::<Ten>()
        .register::<One>()
        .build()
        .unwrap();
    let (mut chained, mut called, mut executed) = (Vec::new(), Vec::new(), Vec::new());
    let mut called_one = Vec::new();
    tokio.block_on(async {
        for _ in 0..ROUNDS {
            let started = std::time::Instant::now();
            for _ in 0..ITERATIONS {
                std::hint::black_box(chain(std::hint::black_box(1)).await);
            }
            chained.push(started.elapsed());
            let started = std::time::Instant::now();
            for _ in 0..ITERATIONS {
                let output = runtime.call::<Ten>(std::hint::black_box(1)).await.unwrap();
                std::hint::black_box(output.unwrap());
            }
            called.push(started.elapsed());
            let started = std::time::Instant::now();
            for _ in 0..ITERATIONS {
                let output = runtime.call::<One>(std::hint::black_box(1)).await.unwrap();
                std::hint::black_box(output.unwrap());
            }
            called_one.push(started.elapsed());
            let started = std::time::Instant::now();
            for _ in 0..ITERATIONS {
                let execution = runtime
                    .execute::<Ten>(std::hint::black_box(1))
                    .await
                    .unwrap();
                std::hint::black_box(execution);
            }
            executed.push(started.elapsed());
        }
    });
    let per_run = |times: &mut Vec<std::time::Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1e9 / f64::from(ITERATIONS)
    };
    let (chain, call, execute, call_one) = (
        per_run(&mut chained),
        per_run(&mut called),
        per_run(&mut executed),
        per_run(&mut called_one),
    );
    println!(
        "express_overhead: per run of 10 states: chain {chain:.0} ns, call {call:.0} ns, execute {execute:.0} ns"
    );
    println!(
        "express_overhead: per transition above the chain: call {:.1} ns (goal 10), execute {:.1} ns (goal 100)",
        (call - chain) / 10.0,
        (execute - chain) / 10.0
    );
    // A one-state workflow costs an execution and one transition; nine more cost nine.
    let per_state = (call - call_one) / 9.0;
    println!(
        "express_overhead: call split: {:.0} ns per execution, {per_state:.1} ns per further state",
        call_one - per_state
    );
}

criterion_group!(benches, express_overhead);

fn main() {
    overhead_per_transition();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
