use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
}

fn main() {
    // Every candidate of an IN list has the tested column's type.
    let _ = select!(User::id FROM User WHERE User::id.in_([1, User::name]));
}
