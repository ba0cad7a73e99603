//! The durable benchmark's workflow on Restate: a service whose handler makes ten `ctx.run`
//! steps (each one journaled by the Restate server before the handler goes on), and a load
//! generator that calls it through the server's ingress.
//!
//! ```text
//! restate-ten serve ADDRESS                   # the service endpoint, e.g. 127.0.0.1:9080
//! restate-ten load INGRESS EXECUTIONS SEQUENTIAL LABEL
//! ```
//!
//! `load` makes EXECUTIONS calls at once (throughput), then SEQUENTIAL one after another
//! (latency per execution), and prints one Markdown table row:
//! `| LABEL | executions/s | steps/s | p50 ms | p99 ms |`.

use std::time::{Duration, Instant};

use restate_sdk::prelude::*;

const STEPS: u64 = 10;

struct Ten;

#[restate_sdk::service]
impl Ten {
    #[handler]
    async fn run(&self, ctx: Context<'_>, value: u64) -> HandlerResult<u64> {
        let mut value = value;
        for _ in 0..STEPS {
            let current = value;
            value = ctx.run(|| async move { Ok(current + 1) }).await?;
        }
        Ok(value)
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn call(client: &reqwest::Client, ingress: &str, value: u64) -> Result<Duration, Failure> {
    let began = Instant::now();
    let response = client
        .post(format!("{ingress}/Ten/run"))
        .header("content-type", "application/json")
        .body(value.to_string())
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        return Err(format!("the call answered {status}: {body}").into());
    }
    let result: u64 = body.trim().parse()?;
    if result != value + STEPS {
        return Err(format!("the call returned {result}, not {}", value + STEPS).into());
    }
    Ok(began.elapsed())
}

async fn load(ingress: &str, executions: u64, sequential: u64, label: &str) -> Result<(), Failure> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(usize::MAX).build()?;
    // One call first, so that the first measured call does not pay for discovery.
    call(&client, ingress, u64::MAX - 100).await?;

    let began = Instant::now();
    let calls = (0..executions).map(|n| call(&client, ingress, n));
    for outcome in futures::future::join_all(calls).await {
        outcome?;
    }
    let concurrent = began.elapsed().as_secs_f64();

    let mut latencies = Vec::new();
    for n in 0..sequential {
        latencies.push(call(&client, ingress, executions + n).await?);
    }
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index].as_secs_f64() * 1000.0
    };
    println!(
        "| {label} | {:.0} | {:.0} | {:.2} | {:.2} |",
        executions as f64 / concurrent,
        (executions * STEPS) as f64 / concurrent,
        percentile(0.5),
        percentile(0.99)
    );
    Ok(())
}

fn usage() -> ! {
    eprintln!("usage: restate-ten serve ADDRESS | load INGRESS EXECUTIONS SEQUENTIAL LABEL");
    std::process::exit(64)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve", address] => {
            let address = address.parse().unwrap_or_else(|_| usage());
            HttpServer::new(Endpoint::builder().bind(Ten).build())
                .listen_and_serve(address)
                .await;
        }
        ["load", ingress, executions, sequential, label] => {
            let executions = executions.parse().unwrap_or_else(|_| usage());
            let sequential = sequential.parse().unwrap_or_else(|_| usage());
            if let Err(failure) = load(ingress, executions, sequential, label).await {
                eprintln!("restate-ten: {failure}");
                std::process::exit(1);
            }
        }
        _ => usage(),
    }
}
