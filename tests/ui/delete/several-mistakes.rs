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

// Every mistake at once: a table not deleted from, an unknown column, a clause delete! lacks.
fn main() {
    let _ = delete!(User WHERE Post::id == 1 || User::nmae == "x" LIMIT 1);
}
