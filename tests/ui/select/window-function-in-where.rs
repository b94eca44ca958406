use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
}

fn main() {
    let _ = select!(User::id FROM User WHERE row_number() > 1);
}
