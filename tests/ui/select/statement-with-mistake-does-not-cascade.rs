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

// The statement with a mistake is the only error: code using its value adds none.
fn main() {
    let users = select!(User FROM User WHERE Post::id == 1);
    let count: u8 = users;
    let _ = count + users.len();
}
