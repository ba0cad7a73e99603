use workflow::prelude::*;

type Result<T> = std::result::Result<T, std::io::Error>;

#[step]
async fn read(path: String) -> Result<String> {
    Ok(path)
}

fn main() {}
