use workflow::prelude::*;

struct Service;

impl Service {
    #[step]
    async fn run(&self, order: String) -> String {
        order
    }
}

fn main() {}
