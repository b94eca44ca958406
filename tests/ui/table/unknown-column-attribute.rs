use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primry_key)]
    id: i64,
}

fn main() {}
