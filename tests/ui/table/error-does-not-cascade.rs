use quarry::prelude::*;

// The bad attribute is the only error: uses of `User` below still type-check against the stub.
#[derive(Table)]
struct User {
    #[column(primary_key, uniqe)]
    id: i64,
    name: String,
}

fn main() {
    let _ = select!(User WHERE User::name == "ed");
}
