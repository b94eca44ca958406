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

// Every mistake at once: an unknown column, a value of the wrong type, a table not updated.
fn main() {
    let _ = update!(User SET nmae = "ed", id = "seven" WHERE Post::id == 1);
}
