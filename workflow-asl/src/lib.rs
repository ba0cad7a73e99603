//! Amazon States Language.
mod choice;
mod convert;
pub mod definition;
mod error;
pub mod flow;
pub mod intrinsic;
pub mod path;
pub mod pointer;
mod run;
pub mod template;
pub mod timestamp;

pub use error::DataError;
pub use run::{
    AslInput, AslMachine, AslWorkflow, Handlers, RegisterAsl, Response, TaskCall, TaskError,
};
