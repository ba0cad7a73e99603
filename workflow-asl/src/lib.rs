//! Amazon States Language.
mod error;
pub mod path;
pub use error::DataError;
mod choice;
mod convert;
pub mod definition;
pub mod flow;
pub mod intrinsic;
pub mod pointer;
pub mod template;
pub mod timestamp;
