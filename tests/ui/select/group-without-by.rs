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

fn main() {
    let _ = select!(User::hair_color FROM User GROUP User::hair_color);
}
