use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    #[column(max_length = 10)]
    age: i32,
}

fn main() {}
