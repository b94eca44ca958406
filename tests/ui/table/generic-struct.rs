use quarry::prelude::*;

#[derive(Table)]
struct User<'a> {
    #[column(primary_key)]
    id: i64,
    name: &'a str,
}

fn main() {}
