//! Several workers, one database: submit shipments from one process, run them in as many
//! worker processes as you like (on as many machines), all sharing one store.
//!
//! Each worker claims executions no live worker holds and renews its leases; kill one and the
//! others take its executions over once its leases run out (a task it had started without a
//! recorded outcome fails with `States.TaskFailed` unless a retrier is declared, as after any
//! crash). Works on PostgreSQL (`postgres://...`) and on a SQLite file shared by processes on
//! one machine (`sqlite://...`).
//!
//! ```text
//! cargo run --example fleet -- postgres://postgres@127.0.0.1:55432/postgres submit 20
//! cargo run --example fleet -- postgres://postgres@127.0.0.1:55432/postgres work north &
//! cargo run --example fleet -- postgres://postgres@127.0.0.1:55432/postgres work south
//! ```
//!
//! `work NAME --until-idle` stops once no execution is left running; without it a worker runs
//! until Ctrl-C, then shuts down gracefully (`Runtime::drain`): it starts and claims nothing
//! more, lets its running tasks finish for up to 10 s, and gives the leases of the rest back,
//! so that the other workers take them over at once rather than a lease later.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::render;
use workflow::store::ExecutionFilter;
use workflow::ExecutionStatus;

/// A parcel to ship.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Shipment {
    id: String,
    kilograms: u32,
}

/// A parcel with its label.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Labelled {
    shipment: Shipment,
    label: String,
}

/// The worker this process is, for the steps to say who ran them.
struct Me(String);

#[step]
async fn print_label(shipment: Shipment, me: Res<Me>) -> Labelled {
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!("[{}] labelled {}", me.0, shipment.id);
    let label = format!("{}-{}kg", shipment.id, shipment.kilograms);
    Labelled { shipment, label }
}

/// Booking the courier may be repeated safely (the courier deduplicates by label), so a
/// booking lost with its worker is retried.
#[step]
async fn book_courier(parcel: Labelled, me: Res<Me>) -> Labelled {
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!("[{}] booked a courier for {}", me.0, parcel.shipment.id);
    parcel
}

#[step]
async fn notify(parcel: Labelled, me: Res<Me>) -> String {
    println!("[{}] shipped {}", me.0, parcel.shipment.id);
    parcel.label
}

workflow! {
    /// Labels a parcel, books a courier, waits for the pick-up, tells the customer.
    Shipping: Standard<Shipment, String> {
        start Label;
        Label: task print_label -> Book;
        Book: task book_courier -> PickUp, retry States::TaskFailed { interval: 1s, max_attempts: 2 };
        PickUp: wait 2s -> Notify;
        Notify: task notify -> end;
    }
}

fn usage() -> Box<dyn std::error::Error> {
    "usage: fleet STORE_URL submit COUNT | fleet STORE_URL work NAME [--until-idle]".into()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
    if render::print_if_requested(Shipping::definition())? {
        return Ok(());
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, command, argument, rest @ ..] = &args[..] else {
        return Err(usage());
    };
    let store = workflow::store::open(url).await?;
    match command.as_str() {
        "submit" => {
            let count: u32 = argument.parse().map_err(|_| usage())?;
            let client = Runtime::builder()
                .store_arc(store)
                .resource(Me("client".to_owned()))
                .register::<Shipping>()
                .build()?;
            for n in 1..=count {
                let shipment = Shipment {
                    id: format!("S-{n}"),
                    kilograms: n % 30 + 1,
                };
                match client
                    .submit::<Shipping>(&shipment.id.clone(), shipment)
                    .await
                {
                    Ok(_) => {}
                    Err(workflow::RuntimeError::ExecutionAlreadyExists { name, .. }) => {
                        println!("{name} was submitted before");
                    }
                    Err(other) => return Err(other.into()),
                }
            }
            println!("submitted {count} shipments for the workers");
        }
        "work" => {
            let until_idle = rest.iter().any(|flag| flag == "--until-idle");
            let worker = Runtime::builder()
                .store_arc(store)
                .resource(Me(argument.clone()))
                .register::<Shipping>()
                .lease(Duration::from_secs(5))
                .worker_name(argument)
                .claim_every(Duration::from_millis(200), 10)
                .build()?;
            let _serving = worker.serve()?;
            println!("[{argument}] serving");
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
                if until_idle {
                    let running = worker
                        .list(
                            ExecutionFilter::all()
                                .workflow("Shipping")
                                .status(ExecutionStatus::Running),
                        )
                        .await?;
                    if running.is_empty() {
                        break;
                    }
                }
            }
            let drained = worker.drain(Duration::from_secs(10)).await;
            println!(
                "[{argument}] stopped: {} finished while draining, {} handed over",
                drained.finished.len(),
                drained.handed_over.len()
            );
        }
        _ => return Err(usage()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use workflow::store::MemoryStore;

    /// Two workers on one store ship every parcel once between them.
    #[workflow::test]
    async fn two_workers_ship_every_parcel() {
        let store: std::sync::Arc<dyn workflow::store::Store> =
            std::sync::Arc::new(MemoryStore::new());
        let clock = workflow::VirtualClock::new();
        let build = |name: &str| {
            Runtime::builder()
                .store_arc(std::sync::Arc::clone(&store))
                .clock(clock.clone())
                .resource(Me(name.to_owned()))
                .register::<Shipping>()
                .lease(Duration::from_secs(5))
                .worker_name(name)
                .claim_every(Duration::from_millis(200), 2)
                .build()
                .unwrap()
        };
        let (north, south) = (build("north"), build("south"));
        let mut handles = Vec::new();
        for n in 1..=6 {
            let shipment = Shipment {
                id: format!("S-{n}"),
                kilograms: n,
            };
            handles.push(
                north
                    .submit::<Shipping>(&shipment.id.clone(), shipment)
                    .await
                    .unwrap(),
            );
        }
        let (_north, _south) = (north.serve().unwrap(), south.serve().unwrap());
        for (n, handle) in (1..=6).zip(handles) {
            assert_eq!(
                handle.result().await.unwrap().unwrap(),
                format!("S-{n}-{n}kg")
            );
        }
    }
}
