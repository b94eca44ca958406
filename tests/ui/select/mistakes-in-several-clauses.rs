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

// A mistake in one clause does not hide those in the others: a missing table in WHERE, GROUP
// without BY, a text value for an integer column in HAVING.
fn main() {
    let _ = select!(User::name, count(User::id) FROM User
        WHERE Psot::id == 1
        GROUP User::name
        HAVING count(User::id) > "many");
}
