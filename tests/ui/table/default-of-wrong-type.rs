use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    #[column(default = "zero")]
    karma: i32,
}

fn main() {}
