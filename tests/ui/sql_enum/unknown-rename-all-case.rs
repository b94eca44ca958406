use quarry::prelude::*;

#[derive(SqlEnum, Clone, Copy)]
#[sql_enum(rename_all = "snakecase")]
enum Format {
    Ebook,
}

fn main() {}
