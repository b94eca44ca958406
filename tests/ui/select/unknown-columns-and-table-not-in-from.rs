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

// Three mistakes, all reported in one compile: two columns rustc cannot find, and a table
// the statement does not name, which the macro reports.
fn main() {
    let _ = select!(User::nmae, User::hair FROM User WHERE Post::id == 1);
}
