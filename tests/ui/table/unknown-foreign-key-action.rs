use quarry::prelude::*;

#[derive(Table)]
struct Author {
    #[column(primary_key)]
    id: i64,
}

#[derive(Table)]
struct Book {
    #[column(primary_key)]
    id: i64,
    #[column(references = Author::id, on_delete = "delete children")]
    author_id: i64,
}

fn main() {}
