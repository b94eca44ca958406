use quarry::prelude::*;

#[derive(Table)]
enum User {
    Active { id: i64 },
}

fn main() {}
