//! A workflow of more states than one async body of its machine holds (`advance` groups its
//! states, 32 to a function, past that, and makes the futures of its task states with
//! retriers or catchers in a function of their own): it runs every state in order, in both
//! Express modes, with a choice, a pass, a wait, retriers (one on the last state) and a
//! catcher in later groups. Its generated code is linted as `generated_code_lints.rs`'s is.

#![deny(clippy::pedantic, clippy::nursery)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // A failed expectation fails the test.

use workflow::prelude::*;
use workflow::EventType;

/// Adds one.
#[step]
pub async fn add_one(value: u64) -> u64 {
    tokio::task::yield_now().await;
    value + 1
}

/// Why a step refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, StepError)]
pub enum Refused {
    /// Not now.
    #[error("busy")]
    Busy,
}

/// Refuses its first attempt, then adds ten.
///
/// # Errors
///
/// [`Refused::Busy`] on a first attempt.
#[step]
pub async fn refuse_once(value: u64, ctx: StepContext) -> Result<u64, Refused> {
    tokio::task::yield_now().await;
    if ctx.attempt() == 1 {
        return Err(Refused::Busy);
    }
    Ok(value + 10)
}

/// What a caught failure hands on: its input, plus a hundred.
#[step]
pub async fn caught(failed: Caught<u64>) -> u64 {
    tokio::task::yield_now().await;
    failed.input + 100
}

workflow! {
    /// Forty states in a row, and two beside them.
    pub Long: Express<u64, u64> {
        start S01;
        S01: task add_one -> S02;
        S02: task add_one -> S03;
        S03: task add_one -> S04;
        S04: task add_one -> S05;
        S05: task add_one -> S06;
        S06: task add_one -> S07;
        S07: task add_one -> S08;
        S08: task add_one -> S09;
        S09: task add_one -> S10;
        S10: task add_one -> S11;
        S11: task add_one -> S12;
        S12: choice {
            |value: &u64| *value > 1_000_000 => TooBig,
            _ => S13,
        };
        S13: task add_one -> S14;
        S14: task add_one -> S15;
        S15: task add_one -> S16;
        S16: task add_one -> S17;
        S17: task add_one -> S18;
        S18: task add_one -> S19;
        S19: task add_one -> S20;
        S20: pass -> S21;
        S21: task add_one -> S22;
        S22: task add_one -> S23;
        S23: task add_one -> S24;
        S24: task add_one -> S25;
        S25: task add_one -> S26;
        S26: task add_one -> S27;
        S27: wait 1s -> S28;
        S28: task add_one -> S29;
        S29: task add_one -> S30;
        S30: task add_one -> S31;
        S31: task add_one -> S32;
        S32: task add_one -> S33;
        S33: task add_one -> S34;
        S34: task add_one -> S35;
        S35: task refuse_once -> S36,
            retry Refused::Busy { max_attempts: 2, interval: 1s };
        S36: task add_one -> S37;
        S37: task add_one -> S38;
        S38: task refuse_once -> S39,
            catch Refused::Busy -> Caught;
        S39: task add_one -> S40;
        S40: task refuse_once -> end,
            retry Refused::Busy { max_attempts: 2, interval: 1s };
        Caught: task caught -> S39;
        TooBig: fail "Value.TooBig";
    }
}

/// The states the input goes through, in order.
fn expected_states() -> Vec<String> {
    let mut states: Vec<String> = (1..=38).map(|number| format!("S{number:02}")).collect();
    states.push("Caught".to_owned());
    states.extend(["S39".to_owned(), "S40".to_owned()]);
    states
}

/// 34 tasks add one, the two retried ones add ten each, the caught one hands on its input
/// plus a hundred.
const EXPECTED: u64 = 7 + 34 + 2 * 10 + 100;

#[tokio::test(start_paused = true)]
async fn a_machine_of_many_states_runs_them_all_in_order() {
    let runtime = Runtime::builder().register::<Long>().build().unwrap();
    assert_eq!(runtime.call::<Long>(7).await.unwrap(), Ok(EXPECTED));

    let done = runtime.execute::<Long>(7).await.unwrap();
    assert_eq!(done.output(), Some(&EXPECTED));
    let entered: Vec<String> = done
        .history()
        .events()
        .iter()
        .filter(|event| {
            matches!(
                event.kind,
                EventType::TaskStateEntered
                    | EventType::ChoiceStateEntered
                    | EventType::PassStateEntered
                    | EventType::WaitStateEntered
            )
        })
        .filter_map(|event| event.state.as_deref().map(str::to_owned))
        .collect();
    assert_eq!(entered, expected_states());
}

#[tokio::test(start_paused = true)]
async fn a_later_group_fails_the_execution_as_the_first_would() {
    let runtime = Runtime::builder().register::<Long>().build().unwrap();
    let failed = runtime.call::<Long>(2_000_000).await.unwrap().unwrap_err();
    assert_eq!(failed.error(), "Value.TooBig");
    assert_eq!(failed.state(), Some("TooBig"));
}
