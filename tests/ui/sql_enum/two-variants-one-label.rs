use quarry::prelude::*;

#[derive(SqlEnum, Clone, Copy)]
#[sql_enum(rename_all = "lowercase")]
enum Format {
    Ebook,
    EBook,
}

fn main() {}
