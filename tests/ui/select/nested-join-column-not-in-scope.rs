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

#[derive(Table)]
struct Comment {
    #[column(primary_key)]
    id: i64,
    post_id: i64,
}

fn main() {
    // The nested join names Comment, which is not among the statement's tables.
    let _ = select!(User::id FROM User
        LEFT JOIN (Post JOIN Post ON Comment::post_id == Post::id) ON Post::user_id == User::id);
}
