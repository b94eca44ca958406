//! The plan's order, SQL per dialect and lint, on tables built by hand.

use std::sync::Arc;

use super::*;
use crate::constraint::FkAction;
use crate::dialect::{Mysql, Postgres, Sqlite};
use crate::error::Error;
use crate::schema::{DEFAULT_METADATA, DefaultValue};
use crate::value::SqlType;

fn table(name: &str, columns: Vec<ColumnDef>) -> Arc<TableDef> {
    Arc::new(TableDef::build(name, columns, &DEFAULT_METADATA))
}

fn id() -> ColumnDef {
    ColumnDef::named("id", SqlType::BigInt, false)
        .primary_key()
        .autoincrement()
}

fn books(extra: Vec<ColumnDef>) -> Arc<TableDef> {
    let mut cols = vec![
        id(),
        ColumnDef::named("title", SqlType::Text, false).max_length(50),
    ];
    cols.extend(extra);
    table("books", cols)
}

#[test]
fn foreign_keys_and_indexes_drop_first_and_are_added_last() {
    let live = books(vec![
        ColumnDef::named("author_id", SqlType::BigInt, true)
            .references_named("authors", "id")
            .foreign_key_name("books_author_id_fkey"),
    ]);
    let declared = books(vec![
        ColumnDef::named("author_id", SqlType::BigInt, true)
            .references_named("people", "id")
            .on_delete(FkAction::Cascade)
            .index(),
    ]);
    let people = table("people", vec![id()]);
    let plan = diff_tables(&[people, declared], &[live], &Postgres, &Renames::new());
    assert_eq!(
        plan.to_string(),
        "drop foreign key books.author_id\ncreate table people\nadd index ix_books_author_id on books\nadd foreign key books.author_id\n"
    );
    let sql = plan.sql(&Postgres).expect("sql");
    assert_eq!(
        sql[0],
        "ALTER TABLE books DROP CONSTRAINT books_author_id_fkey"
    );
    assert_eq!(
        sql.last().map(String::as_str),
        Some(
            "ALTER TABLE books ADD CONSTRAINT fk_books_author_id FOREIGN KEY(author_id) REFERENCES people (id) ON DELETE CASCADE"
        )
    );
    let mysql = plan.sql(&Mysql).expect("sql");
    assert_eq!(
        mysql[0],
        "ALTER TABLE books DROP FOREIGN KEY books_author_id_fkey"
    );
}

#[test]
fn column_changes_are_spelled_per_dialect() {
    let live = books(vec![ColumnDef::named("pages", SqlType::Integer, true)]);
    let declared = books(vec![
        ColumnDef::named("pages", SqlType::BigInt, false).default_value(DefaultValue::Int(0)),
    ]);
    let plan =
        diff_tables(&[declared], &[live], &Postgres, &Renames::new()).with_row_count("books", 3);
    assert_eq!(
        plan.to_string(),
        "alter column books.pages (type, nullability, default)\n"
    );
    assert!(
        plan.hazards().is_empty(),
        "a wider type with a default: {:?}",
        plan.hazards()
    );
    assert_eq!(
        plan.sql(&Postgres).expect("sql"),
        [
            "ALTER TABLE books ALTER COLUMN pages TYPE BIGINT USING pages::BIGINT",
            "ALTER TABLE books ALTER COLUMN pages SET NOT NULL",
            "ALTER TABLE books ALTER COLUMN pages SET DEFAULT 0",
        ]
    );
    assert_eq!(
        plan.sql(&Mysql).expect("sql"),
        ["ALTER TABLE books MODIFY pages BIGINT NOT NULL DEFAULT 0"]
    );
    let sqlite = plan.sql(&Sqlite).expect("sql");
    assert!(
        sqlite[0].starts_with("CREATE TABLE _quarry_tmp_books ("),
        "{sqlite:?}"
    );
    assert_eq!(sqlite[3], "ALTER TABLE _quarry_tmp_books RENAME TO books");
    // Undone, the same column goes back.
    let back = plan.reverse();
    assert_eq!(
        back.sql(&Postgres).expect("sql"),
        [
            "ALTER TABLE books ALTER COLUMN pages TYPE INTEGER USING pages::INTEGER",
            "ALTER TABLE books ALTER COLUMN pages DROP NOT NULL",
            "ALTER TABLE books ALTER COLUMN pages DROP DEFAULT",
        ]
    );
}

#[test]
fn the_lint_names_narrowing_and_not_null_without_default() {
    let live = books(vec![
        ColumnDef::named("code", SqlType::Text, true).max_length(20),
    ]);
    let declared = books(vec![
        ColumnDef::named("code", SqlType::Text, false).max_length(5),
    ]);
    let plan =
        diff_tables(&[declared], &[live], &Postgres, &Renames::new()).with_row_count("books", 2);
    let hazards: Vec<String> = plan.hazards().iter().map(ToString::to_string).collect();
    assert_eq!(
        hazards,
        [
            "column books.code changes to a type that may not hold every value",
            "column books.code becomes NOT NULL without a default (2 rows); give it a default or fill it first",
        ]
    );
    let err = plan.sql(&Postgres).expect_err("refused");
    assert!(matches!(err, Error::Migration(_)), "{err}");
    // On an empty table, NOT NULL is safe.
    let empty = diff_tables(
        &[books(vec![ColumnDef::named("isbn", SqlType::Text, false)])],
        &[books(vec![])],
        &Postgres,
        &Renames::new(),
    )
    .with_row_count("books", 0);
    assert!(empty.hazards().is_empty());
}

#[test]
fn unique_constraints_and_key_changes() {
    let live = books(vec![
        ColumnDef::named("isbn", SqlType::Text, false).max_length(13),
    ]);
    let declared = books(vec![
        ColumnDef::named("isbn", SqlType::Text, false)
            .max_length(13)
            .unique(),
    ]);
    let plan = diff_tables(
        std::slice::from_ref(&declared),
        std::slice::from_ref(&live),
        &Postgres,
        &Renames::new(),
    );
    assert_eq!(
        plan.sql(&Postgres).expect("sql"),
        ["ALTER TABLE books ADD CONSTRAINT books_isbn_key UNIQUE (isbn)"]
    );
    // Names follow the database the plan was diffed for.
    let on_mysql = diff_tables(&[declared], &[live], &Mysql, &Renames::new());
    assert_eq!(
        on_mysql.reverse().sql(&Mysql).expect("sql"),
        ["ALTER TABLE books DROP INDEX isbn"]
    );
    // A primary key change: in place on the servers, a rebuild on SQLite.
    let keyed = table(
        "books",
        vec![
            ColumnDef::named("id", SqlType::BigInt, false)
                .primary_key()
                .autoincrement(),
            ColumnDef::named("title", SqlType::Text, false)
                .max_length(50)
                .primary_key(),
        ],
    );
    let plan = diff_tables(&[keyed], &[books(vec![])], &Postgres, &Renames::new());
    assert_eq!(
        plan.to_string(),
        "alter primary key of books to (id, title)\n"
    );
    assert_eq!(
        plan.sql(&Postgres).expect("sql"),
        ["ALTER TABLE books DROP CONSTRAINT books_pkey, ADD PRIMARY KEY (id, title)"]
    );
    assert_eq!(
        plan.sql(&Mysql).expect("sql"),
        ["ALTER TABLE books DROP PRIMARY KEY, ADD PRIMARY KEY (id, title)"]
    );
    assert!(plan.sql(&Sqlite).expect("sql")[0].starts_with("CREATE TABLE _quarry_tmp_books"));
    // Autoincrement cannot change in place on PostgreSQL.
    let plain = table(
        "books",
        vec![ColumnDef::named("id", SqlType::BigInt, false).primary_key()],
    );
    let plan = diff_tables(
        &[plain],
        &[table("books", vec![id()])],
        &Postgres,
        &Renames::new(),
    );
    assert!(matches!(
        plan.sql(&Postgres),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn renames_come_from_hints_and_keep_the_column() {
    let live = table(
        "authors",
        vec![id(), ColumnDef::named("name", SqlType::Text, false)],
    );
    let declared = table(
        "writers",
        vec![id(), ColumnDef::named("full_name", SqlType::Text, false)],
    );
    let renames = Renames::new()
        .table("authors", "writers")
        .column("writers", "name", "full_name");
    let plan = diff_tables(&[declared], &[live], &Postgres, &renames);
    assert_eq!(
        plan.sql(&Postgres).expect("sql"),
        [
            "ALTER TABLE authors RENAME TO writers",
            "ALTER TABLE writers RENAME COLUMN name TO full_name",
        ]
    );
}
