use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    #[column(unique, unique)]
    email: String,
}

fn main() {}
