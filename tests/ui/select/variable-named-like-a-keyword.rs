use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
}

fn main() {
    let offset = 5_u64;
    // Right after LIMIT, OFFSET, WHERE, HAVING or an operator a keyword-named variable is read
    // as the variable; here `offset` can only be the keyword, and the message says what to write.
    let _ = select!(User ORDER BY User::id LIMIT 5 offset);
}
