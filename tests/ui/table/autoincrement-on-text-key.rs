use quarry::prelude::*;

#[derive(Table)]
struct Tag {
    #[column(primary_key, autoincrement = true)]
    name: String,
}

fn main() {}
