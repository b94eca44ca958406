use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    #[column(name)]
    full_name: String,
}

fn main() {}
