use quarry::prelude::*;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: i64,
}

fn main() {
    let u = User::alias("u");
    let boss = User::alias("boss");
    // delete! through the alias `u`: `boss` is not among its tables.
    let _ = delete!(u WHERE boss.col(User::id) == 1);
}
