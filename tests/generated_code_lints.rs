//! The code `#[step]`, `workflow!` and `derive(StepError)` generate is clean under clippy's
//! `pedantic` and `nursery` groups, as a user crate that denies them would compile it: every
//! state kind and option appears below, and CI's `cargo clippy --all-targets -D warnings`
//! lints this file.

#![deny(clippy::pedantic, clippy::nursery)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed expectation fails the test.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Its number.
    pub id: u64,
    /// What it costs.
    pub cents: u64,
}

/// Why a charge failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, StepError)]
pub enum PaymentError {
    /// The card was refused.
    #[error("declined")]
    Declined,
    /// The gateway did not answer.
    #[error("gateway busy")]
    Busy,
}

/// Charges an order.
///
/// # Errors
///
/// [`PaymentError::Declined`] for an order of nothing.
#[step(timeout = "10s")]
pub async fn charge(order: Order, ctx: StepContext) -> Result<Order, PaymentError> {
    tokio::task::yield_now().await;
    if order.cents == 0 {
        return Err(PaymentError::Declined);
    }
    let _ = ctx.attempt();
    Ok(order)
}

/// Holds a declined order.
#[step]
pub async fn hold(failed: Caught<Order>) -> Order {
    tokio::task::yield_now().await;
    failed.input
}

/// Packs one line.
#[step]
pub async fn pack(line: u64) -> u64 {
    tokio::task::yield_now().await;
    line + 1
}

/// Notes an order.
#[step]
pub async fn note(order: Order) -> u64 {
    tokio::task::yield_now().await;
    order.id
}

const fn is_large(order: &Order) -> bool {
    order.cents > 10_000
}

fn lines(order: &Order) -> Vec<u64> {
    (0..order.id).collect()
}

workflow! {
    /// Every state kind, with retriers, catchers and settings from the input.
    pub Everything: Standard<Order, Vec<u64>> {
        timeout 1h;
        start Charge;
        Charge: task charge -> Route,
            retry PaymentError::Busy { max_attempts: 3, interval: 1s, backoff: 2.0, max_delay: 10s, jitter: full },
            catch PaymentError::Declined -> Hold;
        Hold: task hold -> Route;
        Route: choice {
            is_large => Review,
            |order: &Order| order.id == 0 => Refused,
            _ => Tidy,
        };
        Review: wait for |_order: &Order| Duration::from_secs(1) -> Tidy;
        Tidy: pass -> Both;
        Both: parallel {
            branch { start Note; Note: task note -> end; }
            branch { start Same; Same: pass -> end; }
        } -> Pick, retry States::ALL;
        Pick: pass |both: (u64, Order)| -> Order { both.1 } -> Lines;
        Lines: map lines {
            start Pack;
            Pack: task pack -> end;
        } -> end, max_concurrency 2;
        Refused: fail "Order.Refused", cause |order: &Order| format!("order {}", order.id);
    }
}

workflow! {
    /// A quick one.
    Quick: Express<Order, u64> {
        start Note;
        Note: task note -> end;
    }
}

/// Needs no input and gives nothing back.
#[step]
pub async fn tick((): ()) {
    tokio::task::yield_now().await;
}

workflow! {
    /// Payloads of type `()`, passed from state to state like any other.
    Ticks: Express<(), ()> {
        start First;
        First: task tick -> Second;
        Second: task tick -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn the_linted_workflows_run() {
    let runtime = Runtime::builder()
        .register::<Everything>()
        .register::<Quick>()
        .register::<Ticks>()
        .build()
        .unwrap();
    assert_eq!(runtime.call::<Ticks>(()).await.unwrap(), Ok(()));
    let done = runtime
        .execute::<Everything>(Order { id: 3, cents: 250 })
        .await
        .unwrap();
    assert_eq!(done.output(), Some(&vec![1, 2, 3]));
    assert_eq!(
        runtime
            .call::<Quick>(Order { id: 9, cents: 1 })
            .await
            .unwrap(),
        Ok(9)
    );
}
