use quarry::prelude::*;

#[derive(Table)]
struct Event {
    #[column(primary_key)]
    id: i64,
    at: std::time::Instant,
}

fn main() {}
