use serde::{Deserialize, Serialize};
use workflow::prelude::*;

#[derive(Serialize, Deserialize)]
struct Path(String);

#[derive(Serialize, Deserialize)]
struct Contents(String);

// `std::io::Error` is not a `StepError`: a step's error type needs Step Functions-style names.
#[step]
async fn read(path: Path) -> Result<Contents, std::io::Error> {
    std::fs::read_to_string(path.0).map(Contents)
}

fn main() {}
