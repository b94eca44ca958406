use quarry::prelude::*;

#[derive(Table)]
#[table(name = "users")]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

#[derive(Table)]
#[table(name = "posts")]
struct Post {
    #[column(primary_key)]
    id: i64,
    #[column(references = User::id)]
    user_id: i64,
    title: String,
}

// The other side of && is still checked when one side holds a mistake.
fn main() {
    let _ = select!(User WHERE Post::id == 1 && User::id == "x");
}
