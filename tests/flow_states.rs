//! Choice, Wait and Pass states: routing, waiting on virtual time, transforming.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::{EventType, VirtualClock};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
    amount: u64,
    customer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Outcome {
    id: u32,
    route: String,
}

fn is_vip(order: &Order) -> bool {
    order.customer.starts_with("vip-")
}

/// Approves a reviewed order.
#[step]
async fn approve(order: Order) -> Outcome {
    Outcome {
        id: order.id,
        route: "reviewed".into(),
    }
}

/// Handles an ordinary order.
#[step]
async fn handle(order: Order) -> Outcome {
    Outcome {
        id: order.id,
        route: "normal".into(),
    }
}

workflow! {
    /// Routes orders by size and customer.
    Routing: Standard<Order, Outcome> {
        start Route;
        Route: choice {
            |order: &Order| order.amount > 10_000 => Review,
            is_vip => Fast,
            _ => Relay,
        };
        /// Big orders wait a day for a human.
        Review: wait 24h -> Approve;
        Approve: task approve -> end;
        Fast: pass |order: Order| -> Outcome { Outcome { id: order.id, route: "fast".into() } } -> Done;
        Relay: pass -> Normal;
        Normal: task handle -> Done;
        Done: succeed;
    }
}

fn order(id: u32, amount: u64, customer: &str) -> Order {
    Order {
        id,
        amount,
        customer: customer.into(),
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .clock(VirtualClock::new())
        .register::<Routing>()
        .register::<Shipping>()
        .register::<BigOnly>()
        .register::<Screened>()
        .build()
        .expect("builds")
}

fn kinds_and_states(execution: &workflow::Execution<Outcome>) -> Vec<(EventType, String)> {
    execution
        .history()
        .events()
        .iter()
        .map(|event| (event.kind, event.state.as_deref().unwrap_or("").to_owned()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_big_order_waits_a_day_on_virtual_time() {
    let execution = runtime()
        .execute::<Routing>(order(1, 50_000, "ada"))
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(|o| o.route.as_str()),
        Some("reviewed")
    );
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::from_secs(24 * 3600));
    use EventType::*;
    let expected: Vec<(EventType, String)> = [
        (ExecutionStarted, ""),
        (ChoiceStateEntered, "Route"),
        (ChoiceStateExited, "Route"),
        (WaitStateEntered, "Review"),
        (WaitStateExited, "Review"),
        (TaskStateEntered, "Approve"),
        (TaskScheduled, "Approve"),
        (TaskStarted, "Approve"),
        (TaskSucceeded, "Approve"),
        (TaskStateExited, "Approve"),
        (ExecutionSucceeded, ""),
    ]
    .into_iter()
    .map(|(kind, state)| (kind, state.to_owned()))
    .collect();
    assert_eq!(kinds_and_states(&execution), expected);
    let events = execution.history().events();
    let waited = events[4]
        .timestamp
        .duration_since(events[3].timestamp)
        .expect("forward");
    assert_eq!(waited, Duration::from_secs(24 * 3600));
}

#[tokio::test(start_paused = true)]
async fn a_named_predicate_routes_vips_through_a_transforming_pass() {
    let execution = runtime()
        .execute::<Routing>(order(2, 10, "vip-grace"))
        .await
        .expect("runs");
    assert_eq!(
        execution.output(),
        Some(&Outcome {
            id: 2,
            route: "fast".into()
        })
    );
    use EventType::*;
    let kinds = execution.history().kinds();
    assert_eq!(
        kinds,
        [
            ExecutionStarted,
            ChoiceStateEntered,
            ChoiceStateExited,
            PassStateEntered,
            PassStateExited,
            SucceedStateEntered,
            SucceedStateExited,
            ExecutionSucceeded
        ]
    );
    let pass_exit = &execution.history().events()[4];
    assert_eq!(
        pass_exit.output.as_ref().map(|o| o["route"].clone()),
        Some("fast".into())
    );
}

#[tokio::test(start_paused = true)]
async fn the_default_branch_takes_everything_else() {
    let execution = runtime()
        .execute::<Routing>(order(3, 10, "bob"))
        .await
        .expect("runs");
    assert_eq!(execution.output().map(|o| o.route.as_str()), Some("normal"));
    let states: Vec<String> = kinds_and_states(&execution)
        .into_iter()
        .filter(|(kind, _)| kind.name().ends_with("Entered"))
        .map(|(_, state)| state)
        .collect();
    assert_eq!(states, ["Route", "Relay", "Normal", "Done"]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Parcel {
    id: u32,
    ship_at: SystemTime,
}

/// Ships a parcel, saying when.
#[step]
async fn ship(parcel: Parcel, ctx: StepContext) -> Outcome {
    Outcome {
        id: parcel.id,
        route: format!("shipped by {}", ctx.state()),
    }
}

workflow! {
    Shipping: Express<Parcel, Outcome> {
        start Hold;
        Hold: wait until |parcel: &Parcel| parcel.ship_at -> Ship;
        Ship: task ship -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn wait_until_a_time_taken_from_the_input() {
    let clock = VirtualClock::new();
    let ship_at = workflow::Clock::now(&clock) + Duration::from_secs(90);
    let runtime = Runtime::builder()
        .clock(clock)
        .register::<Shipping>()
        .build()
        .expect("builds");
    let execution = runtime
        .execute::<Shipping>(Parcel { id: 9, ship_at })
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(|o| o.route.as_str()),
        Some("shipped by Ship")
    );
    let entered = execution
        .history()
        .events()
        .iter()
        .find(|event| event.kind == EventType::TaskStateEntered)
        .expect("Ship runs");
    assert_eq!(entered.timestamp, ship_at);

    // A time in the past does not wait at all.
    let past = Parcel {
        id: 10,
        ship_at: SystemTime::UNIX_EPOCH,
    };
    let execution = runtime.execute::<Shipping>(past).await.expect("runs");
    let elapsed = execution
        .stopped_at()
        .duration_since(execution.started_at())
        .expect("forward");
    assert_eq!(elapsed, Duration::ZERO);
}

#[test]
fn the_definition_records_rules_waits_and_transforms() {
    use workflow::definition::{StateKind, WaitFor};
    let definition = <Routing as Workflow>::definition();
    let StateKind::Choice(choice) = &definition.states[0].kind else {
        panic!("Route is a Choice state");
    };
    let conditions: Vec<&str> = choice
        .choices
        .iter()
        .map(|rule| rule.condition.as_str())
        .collect();
    assert_eq!(
        conditions,
        ["|order: &Order| order.amount > 10_000", "is_vip"]
    );
    let targets: Vec<&str> = choice
        .choices
        .iter()
        .map(|rule| definition.states[rule.next.0].name.as_str())
        .collect();
    assert_eq!(targets, ["Review", "Fast"]);
    assert_eq!(
        definition.states[choice.default.expect("has a default").0].name,
        "Relay"
    );
    let StateKind::Wait(wait) = &definition.states[1].kind else {
        panic!("Review is a Wait state");
    };
    assert_eq!(wait.wait, WaitFor::Duration(Duration::from_secs(86_400)));
    assert_eq!(
        definition.states[1].comment.as_deref(),
        Some("Big orders wait a day for a human.")
    );
    let StateKind::Pass(pass) = &definition.states[3].kind else {
        panic!("Fast is a Pass state");
    };
    assert!(pass
        .transform
        .as_deref()
        .is_some_and(|text| text.starts_with("|order: Order| -> Outcome")));
}

workflow! {
    /// Routes big orders only: for any other, no rule holds and there is no default.
    BigOnly: Standard<Order, Outcome> {
        start Route;
        Route: choice {
            |order: &Order| order.amount > 100 => Approve,
        };
        Approve: task approve -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn a_choice_without_a_default_fails_with_no_choice_matched() {
    let runtime = runtime();
    let execution = runtime
        .execute::<BigOnly>(order(1, 500, "ada"))
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(|o| o.route.as_str()),
        Some("reviewed")
    );

    let execution = runtime
        .execute::<BigOnly>(order(2, 5, "ada"))
        .await
        .expect("runs");
    let failure = execution.failure().expect("fails");
    assert_eq!(failure.error(), "States.NoChoiceMatched");
    assert_eq!(failure.state(), Some("Route"));
    // As Step Functions records it: the Choice state is entered and never exited.
    use EventType::*;
    assert_eq!(
        kinds_and_states(&execution),
        [
            (ExecutionStarted, String::new()),
            (ChoiceStateEntered, "Route".to_owned()),
            (ExecutionFailed, String::new()),
        ]
    );
    let failed = &execution.history().events()[2];
    assert_eq!(failed.error.as_deref(), Some("States.NoChoiceMatched"));
    // `States.ALL` matches it too.
    assert!(workflow::retry::error_matches(
        "States.ALL",
        "States.NoChoiceMatched"
    ));
}

workflow! {
    /// The same Choice state in a branch: the Parallel state catches its failure.
    Screened: Standard<Order, String> {
        start Screen;
        Screen: parallel {
            branch {
                start Gate;
                Gate: choice {
                    |order: &Order| order.amount > 100 => Big,
                };
                Big: pass -> end;
            }
        } -> Done, catch States::NoChoiceMatched -> Fallback;
        Done: pass |found: (Order,)| -> String { format!("big order {}", found.0.id) } -> end;
        Fallback: pass |caught: Caught<Order>| -> String { caught.error } -> end;
    }
}

#[tokio::test(start_paused = true)]
async fn an_enclosing_parallel_state_catches_no_choice_matched() {
    let runtime = runtime();
    let execution = runtime
        .execute::<Screened>(order(3, 500, "ada"))
        .await
        .expect("runs");
    assert_eq!(execution.output().map(String::as_str), Some("big order 3"));

    let execution = runtime
        .execute::<Screened>(order(4, 5, "ada"))
        .await
        .expect("runs");
    assert_eq!(
        execution.output().map(String::as_str),
        Some("States.NoChoiceMatched")
    );
    use EventType::*;
    let kinds: Vec<(EventType, Option<&str>)> = execution
        .history()
        .events()
        .iter()
        .map(|event| (event.kind, event.branch.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ExecutionStarted, None),
            (ParallelStateEntered, None),
            (ParallelStateStarted, None),
            (ChoiceStateEntered, Some("Screen/0")),
            (ParallelStateFailed, None),
            (ParallelStateExited, None),
            (PassStateEntered, None),
            (PassStateExited, None),
            (ExecutionSucceeded, None),
        ]
    );
}
