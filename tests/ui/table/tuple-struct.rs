use quarry::prelude::*;

#[derive(Table)]
struct User(i64, String);

fn main() {}
