//! The renderings of a workflow using every state kind, and of executions of it, against
//! reviewed golden files in `tests/golden/` (each example checks its own workflow's). After a
//! deliberate change to a renderer, rewrite them with `UPDATE_GOLDEN=1 cargo test`, then look
//! at each changed file (the SVGs as images) before committing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::render::{self, Status};
use workflow::VirtualClock;

mod support {
    pub(crate) mod golden;
}
use support::golden::{check, check_all_formats};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Parcel {
    id: u32,
    in_stock: bool,
    ship_at: SystemTime,
    items: Vec<u32>,
}

/// Problems with the warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error, StepError)]
enum WarehouseError {
    #[error("the warehouse system is down")]
    Unavailable,
    #[error("no such parcel")]
    Unknown,
}

/// Attempts of `check_stock` so far: the first of each parcel finds the warehouse down.
static CHECKS: AtomicU32 = AtomicU32::new(0);

/// Looks the parcel up in the warehouse.
#[step(timeout = "30s", heartbeat = "5s")]
async fn check_stock(parcel: Parcel) -> Result<Parcel, WarehouseError> {
    if parcel.id == 404 {
        return Err(WarehouseError::Unknown);
    }
    if CHECKS.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err(WarehouseError::Unavailable);
    }
    Ok(parcel)
}

/// Packs one item.
#[step]
async fn pack_item(item: u32) -> Result<u32, WarehouseError> {
    Ok(item)
}

/// Prints the label.
#[step]
async fn print_label(parcel: Parcel) -> Parcel {
    parcel
}

/// Books the courier.
#[step]
async fn book_courier(parcel: Parcel) -> Parcel {
    parcel
}

/// Ships the packed items.
#[step]
async fn ship(packed: Vec<u32>) -> Vec<u32> {
    packed
}

/// Tells the customer.
#[step]
async fn notify(labelled: (Parcel, Parcel)) -> Parcel {
    labelled.0
}

workflow! {
    /// Packs the items of a parcel.
    Packing: Express<Parcel, Vec<u32>> {
        start Pack;
        Pack: map |parcel: &Parcel| parcel.items.clone() {
            start Item;
            Item: task pack_item -> end, retry WarehouseError::Unavailable { max_attempts: 2 };
        } -> Ship, max_concurrency 4;
        Ship: task ship -> end;
    }
}

workflow! {
    /// Every kind of state: a polling loop, a nested workflow, a Parallel and a Map state.
    Fulfilment: Standard<Parcel, Parcel> {
        timeout 7d;
        start Check;

        /// Asks the warehouse, retrying while it is down.
        Check: task check_stock -> Ready,
            retry WarehouseError::Unavailable { max_attempts: 5, interval: 2s, backoff: 1.5, max_delay: 30s },
            catch WarehouseError::Unknown -> Lost;
        Ready: choice {
            |parcel: &Parcel| parcel.in_stock => Hold,
            _ => Later,
        };
        /// Polls again in an hour.
        Later: wait 1h -> Check;
        Hold: wait until |parcel: &Parcel| parcel.ship_at -> Label;
        Label: parallel {
            branch {
                start Print;
                Print: task print_label -> end;
            }
            branch {
                start Book;
                Book: task book_courier -> end;
            }
        } -> Notify, catch States::ALL -> Lost;
        Notify: task notify -> Stamp;
        Stamp: pass |parcel: Parcel| -> Parcel { Parcel { items: Vec::new(), ..parcel } } -> Packed;
        Packed: pass -> Done;
        Done: succeed;
        Lost: fail "ParcelLost", cause "The warehouse does not know the parcel";
    }
}

#[test]
fn every_state_kind_renders_as_reviewed() {
    check_all_formats(Fulfilment::definition());
    check_all_formats(Packing::definition());
}

fn parcel(id: u32) -> Parcel {
    Parcel {
        id,
        in_stock: true,
        ship_at: SystemTime::UNIX_EPOCH,
        items: vec![1, 2],
    }
}

#[tokio::test(start_paused = true)]
async fn an_execution_colours_each_state_by_how_it_went() {
    let runtime = Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Fulfilment>()
        .build()
        .expect("builds");
    let definition = Fulfilment::definition();

    // Down once (retried), then through every state of the happy path.
    let shipped = runtime
        .execute::<Fulfilment>(parcel(7))
        .await
        .expect("runs");
    let statuses = shipped.history().statuses();
    assert_eq!(statuses.get("Check"), Some(&Status::Retried));
    for state in [
        "Ready", "Hold", "Label", "Print", "Book", "Notify", "Stamp", "Packed", "Done",
    ] {
        assert_eq!(statuses.get(state), Some(&Status::Succeeded), "{state}");
    }
    assert_eq!(statuses.get("Later"), None, "never reached");
    assert_eq!(statuses.get("Lost"), None, "never reached");
    check(
        "Fulfilment.shipped.svg",
        &render::svg_execution(definition, &statuses),
    );
    check(
        "Fulfilment.shipped.mmd",
        &render::mermaid_execution(definition, &statuses),
    );

    // Unknown to the warehouse: caught, and the execution fails in `Lost`.
    let lost = runtime
        .execute::<Fulfilment>(parcel(404))
        .await
        .expect("runs");
    let statuses = lost.history().statuses();
    assert_eq!(statuses.get("Check"), Some(&Status::Caught));
    assert_eq!(statuses.get("Lost"), Some(&Status::Failed));
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    let svg = render::svg_execution(definition, &statuses);
    check("Fulfilment.lost.svg", &svg);
    let caught_fill = "#ffedd5";
    assert!(
        svg.contains(caught_fill),
        "the caught state is drawn in the caught colour"
    );
    let mermaid = render::mermaid_execution(definition, &statuses);
    assert!(mermaid.contains("class Check caught"), "{mermaid}");
    assert!(mermaid.contains("class Lost failed"), "{mermaid}");
}
