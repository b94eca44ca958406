use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
}

fn main() {
    let _ = select!(User WHERE User::name.sounds_like("ed"));
}
