//! Conformance with AWS Step Functions: machines written in the DSL whose whole event-type
//! sequence and ending are asserted against what Step Functions records.
//!
//! Where an expectation comes from is said beside each test: the Amazon States Language
//! specification, the Step Functions developer guide, or histories recorded on AWS itself
//! (the event sequences quoted in comments).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // A failed expectation fails the test.

use workflow::{EventType, History};

/// The event types of one lane: the top level (`None`), or a branch or iteration's label.
fn lane(history: &History, label: Option<&str>) -> Vec<EventType> {
    history
        .events()
        .iter()
        .filter(|event| event.branch.as_deref() == label)
        .map(|event| event.kind)
        .collect()
}

#[path = "conformance_cases/aws_composite_machines.rs"]
mod aws_composite_machines;
#[path = "conformance_cases/aws_flow_machines.rs"]
mod aws_flow_machines;
#[path = "conformance_cases/cancelled_work.rs"]
mod cancelled_work;
#[path = "conformance_cases/composite_retries.rs"]
mod composite_retries;
#[path = "conformance_cases/task_results.rs"]
mod task_results;
