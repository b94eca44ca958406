//! DDL for every table declared in the tests, on every dialect, as insta snapshots.

mod common;

use common::check_each_dialect;
use quarry::prelude::*;
use quarry::schema_sql::{create_indexes, create_table, drop_table};
use quarry::{TableDef, dialect};

pub static META: MetaData = MetaData::new();

#[derive(Table)]
#[table(name = "users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Table)]
#[table(name = "posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id)]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

/// Every scalar type, nullable and not, with every column option.
#[derive(Table)]
#[table(metadata = META)]
pub struct AllTypes {
    #[column(primary_key)]
    pub id: i32,
    pub small: i16,
    pub big: Option<i64>,
    pub ratio: f32,
    pub precise: Option<f64>,
    #[column(default = true)]
    pub flag: bool,
    #[column(max_length = 120, unique)]
    pub email: String,
    #[column(max_length = 30, index)]
    pub nick: Option<String>,
    #[column(max_length = 40, unique, index)]
    pub handle: String,
    pub data: Vec<u8>,
    pub maybe_data: Option<Vec<u8>>,
    #[column(default = 0)]
    pub karma: i64,
    #[column(default = -1.5)]
    pub score: f64,
    #[column(default = "it's new")]
    pub status: String,
    #[column(sql_type = "NUMERIC(10, 2)")]
    pub price: f64,
    #[column(name = "renamed_col")]
    pub field_name: Option<i32>,
}

/// Names that must be quoted: reserved words, upper case, spaces, quotes, unicode.
#[derive(Table)]
#[table(name = "order", metadata = META)]
pub struct Order {
    #[column(primary_key, name = "select")]
    pub id: i16,
    #[column(name = "User Name")]
    pub user_name: String,
    #[column(name = "quo\"te`d")]
    pub quoted: Option<String>,
    #[column(name = "größe")]
    pub size: Option<i32>,
    #[column(name = "CamelCase")]
    pub camel: Option<bool>,
}

/// A composite key is never autoincrement; the key columns reference two tables.
#[derive(Table)]
#[table(name = "memberships", metadata = META, primary_key(user_id, post_id))]
pub struct Membership {
    #[column(references = User::id)]
    pub user_id: i64,
    #[column(references = Post::id)]
    pub post_id: i64,
    pub role: Option<String>,
}

/// A single integer key with autoincrement turned off, and a self reference.
#[derive(Table)]
#[table(name = "categories", metadata = META)]
pub struct Category {
    #[column(primary_key, autoincrement = false)]
    pub code: i64,
    #[column(references = Category::code)]
    pub parent: Option<i64>,
    #[column(max_length = 20)]
    pub label: String,
}

fn ddl(table: &TableDef, d: &dyn dialect::Dialect) -> String {
    let mut out = create_table(table, d).unwrap_or_else(|e| format!("error: {e}"));
    for index in create_indexes(table, d) {
        out.push_str(";\n");
        out.push_str(&index);
    }
    out.push_str(";\n");
    out.push_str(&drop_table(table, d));
    out
}

#[test]
fn every_table_in_every_dialect() {
    for table in META.tables() {
        check_each_dialect(table.name(), |d| ddl(table, d));
    }
}

#[test]
fn tables_come_parents_first_then_by_name() {
    let names: Vec<&str> = META.tables().iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "all_types",
            "categories",
            "order",
            "users",
            "posts",
            "memberships"
        ]
    );
}

#[test]
fn mysql_refuses_an_indexed_text_column_without_length() {
    static OTHER: MetaData = MetaData::new();
    #[derive(Table)]
    #[table(name = "tags", metadata = OTHER)]
    struct Tag {
        #[column(primary_key)]
        id: i64,
        #[column(unique)]
        label: String,
    }
    let err = create_table(Tag::table(), &dialect::Mysql)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "column \"label\" of table \"tags\" is a key or indexed, but MySQL cannot index TEXT or \
         BLOB without a length; add #[column(max_length = N)]"
    );
    assert!(create_table(Tag::table(), &dialect::Sqlite).is_ok());
}

#[test]
fn column_definitions_carry_their_attributes() {
    let t = Post::table();
    let user_id = t.column("user_id").expect("user_id exists");
    let target = user_id.foreign_key().expect("user_id references users.id");
    assert_eq!(target.table().name(), "users");
    assert_eq!(target.column().name(), "id");
    assert!(
        t.column("id")
            .is_some_and(|c| c.is_primary_key() && c.is_autoincrement())
    );
    assert!(t.column("body").is_some_and(|c| c.is_nullable()));
    assert!(
        Membership::table()
            .columns()
            .iter()
            .all(|c| !c.is_autoincrement())
    );
    assert!(
        Category::table()
            .columns()
            .iter()
            .all(|c| !c.is_autoincrement())
    );
}

#[test]
fn each_metadata_lists_only_its_own_tables() {
    static A: MetaData = MetaData::new();
    static B: MetaData = MetaData::new();
    #[derive(Table)]
    #[table(name = "same", metadata = A)]
    struct InA {
        #[column(primary_key)]
        id: i64,
    }
    #[derive(Table)]
    #[table(name = "same", metadata = B)]
    struct InB {
        #[column(primary_key)]
        id: i32,
    }
    assert!(
        !std::ptr::eq(&A, &B),
        "two MetaData statics must have distinct addresses"
    );
    assert_eq!(A.tables(), [InA::table()]);
    assert_eq!(B.tables(), [InB::table()]);
    assert!(DEFAULT_METADATA.tables().is_empty());
}
