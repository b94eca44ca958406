use quarry::prelude::*;

static NOT_META: i32 = 0;

#[derive(Table)]
#[table(metadata = NOT_META)]
struct User {
    #[column(primary_key)]
    id: i64,
}

fn main() {}
