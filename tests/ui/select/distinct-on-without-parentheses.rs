use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    hair_color: Option<String>,
}

fn main() {
    let _ = select!(DISTINCT ON User::hair_color User FROM User ORDER BY User::hair_color);
}
