use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
}

fn main() {
    let a = 1;
    let _ = select!(User WHERE a == 2);
}
