use quarry::prelude::*;

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: i64,
    user_id: i64,
    title: String,
}

fn main() {
    let recent = select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("recent");
    // The CTE's column is an i64: comparing it with text does not compile.
    let _ = select!(recent.col(Post::user_id) FROM recent WHERE recent.col(Post::user_id) == "x");
}
