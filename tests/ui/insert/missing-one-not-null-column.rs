use quarry::prelude::*;

#[derive(Table)]
#[table(name = "users")]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    email: String,
}

fn main() {
    let _ = insert!(User { name: "ed" });
}
