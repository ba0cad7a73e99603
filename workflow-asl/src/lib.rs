//! Amazon States Language: definitions read and checked, drawn, and run on this crate's
//! runtime with Rust handlers or mocked responses, as `workflow::asl` (the `asl` feature).
//!
//! A team that has Step Functions state machines runs them here as they are: the same
//! engine, stores, history, console and diagrams as a `workflow!` workflow, driven by the ASL
//! JSON document.
//!
//! ```
//! use serde_json::json;
//! use workflow::asl::{AslWorkflow, Handlers, RegisterAsl, TaskCall, TaskError};
//! use workflow::{Mode, Runtime};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let greeter = AslWorkflow::from_json(
//!     "Greeter",
//!     Mode::Express,
//!     &json!({
//!         "StartAt": "Greet",
//!         "States": {
//!             "Greet": {
//!                 "Type": "Task",
//!                 "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Greet",
//!                 "Parameters": {"name.$": "$.who"},
//!                 "ResultPath": "$.greeting",
//!                 "End": true
//!             }
//!         }
//!     }),
//! )?;
//! async fn greet(call: TaskCall) -> Result<serde_json::Value, TaskError> {
//!     Ok(json!(format!("Hello, {}!", call.input["name"].as_str().unwrap_or("you"))))
//! }
//! let runtime = Runtime::builder()
//!     .resource(Handlers::new().resource("arn:aws:lambda:us-east-1:123456789012:function:Greet", greet))
//!     .register_asl(&greeter)
//!     .build()?;
//! let execution = runtime.execute_json("Greeter", json!({"who": "Ada"})).await?;
//! assert_eq!(execution.output(), Some(&json!({"who": "Ada", "greeting": "Hello, Ada!"})));
//! # Ok(()) }
//! ```
//!
//! - **Reading** ([`definition::StateMachine`]): every state type and field of the JSONPath
//!   language; an invalid definition is refused with every problem at its JSON pointer, as
//!   `ValidateStateMachineDefinition` lists them:
//!   `/States/Charge/Next: unknown state "Chrage"; did you mean "Charge"?`.
//! - **Data flow** ([`flow`], [`path`], [`template`], [`intrinsic`]): `InputPath`,
//!   `Parameters` with `.$` fields, the context object `$$`, the eighteen intrinsic functions,
//!   `ResultSelector`, `ResultPath` (replace, discard with `null`, merge), `OutputPath`,
//!   `ItemsPath` and `ItemSelector`, and `Assign` variables (`$name`), which Parallel
//!   branches and Map iterations read and do not change. JSONPath queries are RFC 9535's, by
//!   `serde_json_path`.
//! - **JSONata** ([`jsonata`]): states with `QueryLanguage: JSONata` (or a machine's)
//!   evaluate `{% … %}` in `Arguments`, `Output`, `Assign`, `Condition`, `Items`,
//!   `ItemSelector` and settings, reading `$states` (`input`, `result`, `errorOutput`,
//!   `context`) and the variables; a failing expression is `States.QueryEvaluationError`,
//!   recorded as `EvaluationFailed`.
//! - **Running** ([`AslWorkflow`], [`RegisterAsl`]): Standard executions are durable on
//!   every store and resume after a restart; Express ones run in memory. Retry, Catch,
//!   timeouts and heartbeats are the engine's, as for any workflow. Executions start by name
//!   with JSON (`Runtime::execute_json`, `start_json`, `submit_json`).
//! - **Task states** run [`Handlers`]: async Rust functions by `Resource` (or by state), or
//!   mocked responses, also from Step Functions Local's `MockConfigFile.json`
//!   ([`Handlers::from_mock_config`]).
//! - **Drawing**: [`definition::StateMachine::to_definition`] gives the runtime's
//!   definition, which `workflow::render` draws.
//!
//! A Task whose `Resource` is a Lambda function's ARN records `LambdaFunction*` events, an
//! activity's `Activity*`.
//!
//! A `.waitForTaskToken` task hands its handler the attempt's token ([`TaskCall::token`],
//! and `$$.Task.Token` in its `Parameters`) and waits until it is completed
//! (`Runtime::send_task_success`); a mocked response completes it at once.
//!
//! Not yet: `.sync` nested executions, and a distributed Map's child executions and item
//! readers. The conformance runner (`tests/conformance.rs`) says how many AWS-recorded cases
//! run identically.

mod choice;
mod convert;
pub mod definition;
mod error;
pub mod flow;
pub mod intrinsic;
pub mod jsonata;
pub mod path;
pub mod pointer;
pub mod random;
mod run;
pub mod template;
pub mod timestamp;

pub use error::DataError;
pub use run::{AslWorkflow, AwsAccount, Handlers, RegisterAsl, Response, TaskCall, TaskError};
