//! Amazon States Language.
mod error;
pub mod path;
pub use error::DataError;
pub mod definition;
pub mod intrinsic;
pub mod pointer;
pub mod template;
