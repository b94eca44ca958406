use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    #[column(name = "name")]
    display_name: String,
}

fn main() {}
