use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
}

fn main() {
    let _ = select!(User WHERE User::id > 1 SKIP LOCKED);
}
