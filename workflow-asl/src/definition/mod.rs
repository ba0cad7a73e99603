//! A state machine definition: read from its JSON, every problem collected with its JSON
//! pointer (`read.rs`, `rules.rs`), then checked as a whole: transitions to states that exist,
//! every state reachable (`check.rs`).

mod check;
mod display;
mod fields;
mod kinds;
mod problem;
mod read;
mod rules;
mod shaping;

use serde_json::Value;

pub use problem::{DefinitionError, Problem};
pub use rules::{Comparison, Condition, Kind, Operand, Relation, TypeTest};

use crate::path::JsonPath;
use crate::template::Template;

/// A parsed and checked state machine definition.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StateMachine {
    /// The definition's `Comment`.
    pub comment: Option<String>,
    /// Its states and where it starts.
    pub graph: Graph,
    /// `TimeoutSeconds`: how long an execution may run.
    pub timeout_seconds: Option<u64>,
    /// The query language of states that do not name one.
    pub query_language: QueryLanguage,
}

impl StateMachine {
    /// Reads and checks a definition written as JSON text.
    pub fn from_json_str(text: &str) -> Result<StateMachine, DefinitionError> {
        let value: Value = serde_json::from_str(text).map_err(|error| DefinitionError {
            problems: vec![Problem {
                at: crate::pointer::Pointer::root(),
                message: format!("the definition is not JSON: {error}"),
            }],
        })?;
        Self::from_json(&value)
    }

    /// Reads and checks a definition.
    pub fn from_json(definition: &Value) -> Result<StateMachine, DefinitionError> {
        let mut problems = fields::Problems::default();
        let machine = read::machine(definition, &mut problems);
        if let Some(machine) = &machine {
            check::machine(machine, &mut problems);
        }
        let mut problems = problems.0;
        // By place, the problems of one field kept in the order they were found.
        problems.sort_by(|a, b| a.at.cmp(&b.at));
        match (machine, problems.is_empty()) {
            (Some(machine), true) => Ok(machine),
            _ => Err(DefinitionError { problems }),
        }
    }
}

/// States and the one to start with: the machine's, a Parallel branch's, a Map's processor.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Graph {
    /// `StartAt`.
    pub start_at: String,
    /// The states, by name (JSON objects are read without their order).
    pub states: Vec<State>,
}

impl Graph {
    /// The state named `name`.
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|state| state.name == name)
    }
}

/// How a state's fields are written: JSONPath (paths and templates) or JSONata expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    /// Paths, `Parameters`, `ResultPath`...: the States Language's original data flow.
    #[default]
    JsonPath,
    /// `Arguments`, `Output`, `{% expression %}`.
    Jsonata,
}

/// One state.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct State {
    /// Its name, the key in `States`.
    pub name: String,
    /// `Comment`.
    pub comment: Option<String>,
    /// The query language its fields are written in.
    pub query_language: QueryLanguage,
    /// What kind of state, with the fields of that kind.
    pub kind: StateKind,
    /// Where it goes when done (`None` for Choice, Succeed and Fail).
    pub transition: Option<Transition>,
    /// `InputPath` (JSONPath states).
    pub input_path: Selection,
    /// `OutputPath` (JSONPath states).
    pub output_path: Selection,
    /// `Assign`: variables set when the state ends.
    pub assign: Option<Template>,
    /// `Output` (JSONata states).
    pub output: Option<Value>,
}

/// Where a state goes when it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// `Next`: to the state of that name.
    Next(String),
    /// `End: true`: the machine (or branch) ends.
    End,
}

/// What `InputPath` or `OutputPath` keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Selection {
    /// Everything (the field is absent, or `$`).
    #[default]
    Whole,
    /// Nothing: the field is `null`, and the value is `{}`.
    Nothing,
    /// What the path selects.
    At(JsonPath),
}

/// Where a state puts its result (`ResultPath`).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ResultPath {
    /// The result replaces the input (the field is absent, or `$`).
    #[default]
    Replace,
    /// The result is dropped and the input goes on (`null`).
    Discard,
    /// The result is written into the input at the path.
    At(JsonPath),
}

/// The kinds of state, with their own fields.
#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    /// `Task`.
    Task(Box<Task>),
    /// `Pass`.
    Pass(Pass),
    /// `Choice`.
    Choice(Choice),
    /// `Wait`.
    Wait(Wait),
    /// `Succeed`.
    Succeed,
    /// `Fail`.
    Fail(Fail),
    /// `Parallel`.
    Parallel(Box<Parallel>),
    /// `Map`.
    Map(Box<Map>),
}

impl StateKind {
    /// The name of the kind, as `Type` writes it.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Task(_) => "Task",
            StateKind::Pass(_) => "Pass",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// How a state shapes its result: the fields shared by Task, Parallel and Map.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ResultShaping {
    /// `Parameters` (JSONPath) — for a Map, its `ItemSelector`.
    pub parameters: Option<Template>,
    /// `Arguments` (JSONata).
    pub arguments: Option<Value>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: ResultPath,
    /// `Retry`, in order.
    pub retry: Vec<Retrier>,
    /// `Catch`, in order.
    pub catch: Vec<Catcher>,
}

/// A duration or count given as a number, a path into the input, or a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting<T> {
    /// Written in the definition.
    Fixed(T),
    /// `…Path`: read from the input.
    Path(JsonPath),
    /// A JSONata expression (`{% … %}`), evaluated for each run.
    Expression(String),
}

/// A Task state's fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Task {
    /// `Resource`: what runs the task.
    pub resource: String,
    /// Parameters, result shaping, retriers and catchers.
    pub shaping: ResultShaping,
    /// `TimeoutSeconds` or `TimeoutSecondsPath`.
    pub timeout: Option<Setting<u64>>,
    /// `HeartbeatSeconds` or `HeartbeatSecondsPath`.
    pub heartbeat: Option<Setting<u64>>,
    /// `Credentials`, kept as written.
    pub credentials: Option<Value>,
}

/// A Pass state's fields.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Pass {
    /// `Result`: the state's result, instead of its input.
    pub result: Option<Value>,
    /// `Parameters`.
    pub parameters: Option<Template>,
    /// `ResultPath`.
    pub result_path: ResultPath,
}

/// A Choice state's fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Choice {
    /// `Choices`: the rules, tried in order.
    pub choices: Vec<ChoiceRule>,
    /// `Default`: where to go when no rule matches.
    pub default: Option<String>,
}

/// One of a Choice state's rules.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChoiceRule {
    /// What must hold.
    pub condition: Condition,
    /// Where to go when it does.
    pub next: String,
    /// `Assign` of the rule: variables set when it is taken.
    pub assign: Option<Template>,
    /// `Output` of the rule (JSONata).
    pub output: Option<Value>,
}

/// How long a Wait state waits.
#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    /// `Seconds` or `SecondsPath`.
    Seconds(Setting<u64>),
    /// `Timestamp` or `TimestampPath`: until then.
    Timestamp(Setting<String>),
}

/// A Fail state's fields.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Fail {
    /// `Error` or `ErrorPath`.
    pub error: Option<Setting<String>>,
    /// `Cause` or `CausePath`.
    pub cause: Option<Setting<String>>,
}

/// A Parallel state's fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Parallel {
    /// `Branches`, each run on the state's input.
    pub branches: Vec<Graph>,
    /// Parameters, result shaping, retriers and catchers.
    pub shaping: ResultShaping,
}

/// A Map state's fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Map {
    /// `ItemProcessor` (or the older `Iterator`): the states each item runs through.
    pub processor: Graph,
    /// The processor is written as `Iterator` (the older name) rather than `ItemProcessor`.
    pub written_as_iterator: bool,
    /// `ProcessorConfig.Mode` is `DISTRIBUTED`: items run as child executions.
    pub distributed: bool,
    /// `ItemsPath` (JSONPath).
    pub items_path: Option<JsonPath>,
    /// `Items` (JSONata, or a literal list).
    pub items: Option<Value>,
    /// `ItemSelector` (or the older `Parameters`), and the rest of the shaping.
    pub shaping: ResultShaping,
    /// `MaxConcurrency` or `MaxConcurrencyPath` (0: no limit).
    pub max_concurrency: Option<Setting<u64>>,
    /// `ToleratedFailureCount` or `ToleratedFailureCountPath`.
    pub tolerated_failure_count: Option<Setting<u64>>,
    /// `ToleratedFailurePercentage` or `ToleratedFailurePercentagePath`.
    pub tolerated_failure_percentage: Option<Setting<f64>>,
    /// Fields of a distributed Map kept as written: `ItemReader`, `ItemBatcher`,
    /// `ResultWriter`, `Label`.
    pub distributed_fields: serde_json::Map<String, Value>,
}

/// A rule for retrying a failed state.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Retrier {
    /// `ErrorEquals`: the error names it retries.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: u64,
    /// `MaxAttempts` (default 3).
    pub max_attempts: u64,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy` is `FULL`.
    pub full_jitter: bool,
}

/// A rule for recovering from a failed state.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Catcher {
    /// `ErrorEquals`: the error names it catches.
    pub error_equals: Vec<String>,
    /// `Next`: the state to go to.
    pub next: String,
    /// `ResultPath`: where the error goes in the input.
    pub result_path: ResultPath,
    /// `Assign`: variables set when it catches.
    pub assign: Option<Template>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
}
