//! The context object, `$$`: what a state can read of its execution besides its input.

use std::time::SystemTime;

use serde_json::{json, Value};

/// Where a state runs, for its context object.
pub(crate) struct Facts<'a> {
    pub(crate) workflow: &'a str,
    pub(crate) execution: &'a str,
    pub(crate) execution_input: &'a Value,
    pub(crate) started_at: SystemTime,
    pub(crate) state: &'a str,
    pub(crate) entered_at: SystemTime,
    pub(crate) retry_count: u32,
}

/// The ARN-like ids Step Functions gives, made of this workflow's and execution's names.
const ARN_PREFIX: &str = "arn:aws:states:local:000000000000";

impl Facts<'_> {
    /// The context object, with a Map item's index and value for an `ItemSelector`.
    pub(crate) fn object(&self, item: Option<(usize, &Value)>) -> Value {
        let mut object = json!({
            "Execution": {
                "Id": format!("{ARN_PREFIX}:execution:{}:{}", self.workflow, self.execution),
                "Input": self.execution_input,
                "Name": self.execution,
                "RoleArn": format!("{ARN_PREFIX}:role/{}", self.workflow),
                "StartTime": time(self.started_at),
                "RedriveCount": 0,
            },
            "State": {
                "EnteredTime": time(self.entered_at),
                "Name": self.state,
                "RetryCount": self.retry_count,
            },
            "StateMachine": {
                "Id": format!("{ARN_PREFIX}:stateMachine:{}", self.workflow),
                "Name": self.workflow,
            },
        });
        if let Some((index, value)) = item {
            object["Map"] = json!({"Item": {"Index": index, "Value": value}});
        }
        object
    }
}

/// A time as Step Functions writes it: RFC 3339 in UTC, to the millisecond.
fn time(at: SystemTime) -> String {
    match jiff::Timestamp::try_from(at) {
        Ok(at) => format!("{at:.3}"),
        Err(_) => String::new(),
    }
}
