//! Fault injection: what a durable execution survives. Panics in steps and in the workflow's
//! own code, a store whose writes fail and recover, stops racing the end, unreadable records
//! among good ones, and several runtimes on one store. Each test prints its figures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

mod support {
    #[path = "../support/outcomes.rs"]
    #[allow(dead_code)] // Shared checks; these tests need only some.
    pub(crate) mod outcomes;
    #[path = "../support/recorded.rs"]
    pub(crate) mod recorded;
    #[path = "../support/stores.rs"]
    pub(crate) mod stores;
}

#[path = "fault_cases/faulty_store.rs"]
mod faulty_store;
#[path = "fault_cases/keeper.rs"]
mod keeper;
#[path = "fault_cases/outage.rs"]
mod outage;
#[path = "fault_cases/owners.rs"]
mod owners;
#[path = "fault_cases/panics.rs"]
mod panics;
#[path = "fault_cases/races.rs"]
mod races;
#[path = "fault_cases/records.rs"]
mod records;
