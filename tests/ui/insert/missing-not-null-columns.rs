use quarry::prelude::*;

#[derive(Table)]
#[table(name = "users")]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    email: String,
    #[column(default = 0)]
    karma: i64,
    hair_color: Option<String>,
}

fn main() {
    // `id` is assigned by the database, `karma` has a default, `hair_color` may be NULL:
    // only `name` and `email` must be given.
    let _ = insert!(User { hair_color: None });
}
