use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: i64,
    user_id: i64,
}

fn main() {
    // LATERAL joins a subquery variable, not a table.
    let _ = select!(User::id FROM User JOIN LATERAL Post ON Post::user_id == User::id);
}
