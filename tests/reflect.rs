//! Reflection on every backend: tables declared (by the derive and at run time, over every
//! column option and type), created, then read back from the database compare equal column
//! by column and diff to nothing; reflected tables run statements (`Rows<Row>`).

mod support;

use std::sync::Arc;

use quarry::prelude::*;
use quarry::{ColumnDef, DefinedTable, FkAction, IndexDef, SqlType, TableDef};
use support::backends;

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "rf_authors", metadata = META)]
pub struct Author {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 80, unique)]
    pub name: String,
    #[column(index)]
    pub born: Option<i32>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "rf_books", metadata = META)]
pub struct Book {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Author::id)]
    pub author_id: i64,
    #[column(max_length = 200)]
    pub title: String,
    pub pages: i16,
    pub words: i32,
    pub readers: Option<i64>,
    pub weight: f32,
    pub price: f64,
    pub in_print: bool,
    pub cover: Option<Vec<u8>>,
    pub blurb: Option<String>,
    #[column(max_length = 8, default = "en")]
    pub language: String,
    #[column(default = 0)]
    pub copies: i32,
    #[column(default = true)]
    pub available: bool,
    #[column(default = 1.5)]
    pub rating: f64,
    #[column(max_length = 32, unique, index)]
    pub isbn: String,
    #[column(max_length = 40, index)]
    pub shelf: Option<String>,
}

/// A table defined at run time with the types the derive needs optional features for, a
/// foreign key with actions, a text key, an index over two columns and a unique constraint
/// over two.
fn reviews() -> Arc<TableDef> {
    let table = TableDef::build(
        "rf_reviews",
        vec![
            ColumnDef::named("code", SqlType::Text, false)
                .max_length(20)
                .primary_key(),
            ColumnDef::named("book_id", SqlType::BigInt, true)
                .references(Book::id.as_ref())
                .on_delete(FkAction::Cascade)
                .on_update(FkAction::SetNull),
            ColumnDef::named("day", SqlType::Date, false),
            ColumnDef::named("at", SqlType::Time, true),
            ColumnDef::named("written", SqlType::Timestamp, false),
            ColumnDef::named("seen", SqlType::TimestampTz, true),
            ColumnDef::named("token", SqlType::Uuid, true),
            ColumnDef::named("meta", SqlType::Json, true),
            ColumnDef::named("score", SqlType::Decimal, true),
            ColumnDef::named("reviewer", SqlType::Text, false).max_length(50),
            ColumnDef::named("stars", SqlType::SmallInt, false),
        ],
        &META,
    )
    .with_index(IndexDef::new("ix_rf_reviews_day_stars", ["day", "stars"]))
    .with_index(IndexDef::new("uq_rf_reviews_book_reviewer", ["book_id", "reviewer"]).constraint());
    META.define(table).expect("define rf_reviews")
}

/// The type as the dialect spells it in DDL, for comparison.
fn ddl_type(d: &dyn quarry::dialect::Dialect, t: &TableDef, c: &ColumnDef) -> String {
    d.column_type(t, c)
        .map(|s| s.replace(' ', "").to_ascii_uppercase())
        .unwrap_or_else(|e| format!("error: {e}"))
}

fn assert_same_table(
    backend: &str,
    d: &dyn quarry::dialect::Dialect,
    declared: &TableDef,
    live: &TableDef,
) {
    let names = |t: &TableDef| {
        t.columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(live),
        names(declared),
        "{backend}: columns of {}",
        declared.name()
    );
    for (dc, lc) in declared.columns().iter().zip(live.columns()) {
        let at = format!("{backend}: {}.{}", declared.name(), dc.name());
        assert_eq!(
            ddl_type(d, live, lc),
            ddl_type(d, declared, dc),
            "{at}: type (raw {:?})",
            lc.raw_type_name()
        );
        assert!(lc.raw_type_name().is_some(), "{at}: raw type kept");
        assert_eq!(lc.is_nullable(), dc.is_nullable(), "{at}: nullable");
        assert_eq!(
            lc.is_primary_key(),
            dc.is_primary_key(),
            "{at}: primary key"
        );
        assert_eq!(
            lc.is_autoincrement(),
            dc.is_autoincrement(),
            "{at}: autoincrement"
        );
        assert_eq!(lc.is_unique(), dc.is_unique(), "{at}: unique");
        assert_eq!(lc.has_index(), dc.has_index(), "{at}: index");
        assert_eq!(
            lc.references_table(),
            dc.references_table(),
            "{at}: foreign key"
        );
        assert_eq!(
            lc.on_delete_action(),
            dc.on_delete_action(),
            "{at}: on delete"
        );
        assert_eq!(
            lc.on_update_action(),
            dc.on_update_action(),
            "{at}: on update"
        );
        let (ld, dd) = (
            quarry::migrate::column_default(lc),
            quarry::migrate::column_default(dc),
        );
        match (&ld, &dd) {
            (Some(a), Some(b)) => assert!(a.same(b), "{at}: default {a:?} vs {b:?}"),
            _ => assert_eq!(ld, dd, "{at}: default"),
        }
    }
    let mut live_ix: Vec<_> = live
        .indexes()
        .iter()
        .map(|i| (i.columns().join(","), i.is_unique(), i.is_constraint()))
        .collect();
    let mut declared_ix: Vec<_> = declared
        .indexes()
        .iter()
        .map(|i| (i.columns().join(","), i.is_unique(), i.is_constraint()))
        .collect();
    live_ix.sort();
    declared_ix.sort();
    assert_eq!(
        live_ix,
        declared_ix,
        "{backend}: indexes of {}",
        declared.name()
    );
}

#[test]
fn declared_tables_read_back_equal_over_every_column_option_and_type_on_every_backend() {
    let reviews = reviews();
    for b in backends("reflect_round_trip") {
        let engine = &b.engine;
        META.create_all(engine).expect("create_all");
        let live = quarry::reflect(engine).expect("reflect");
        assert_eq!(
            live.names(),
            ["rf_authors", "rf_books", "rf_reviews"],
            "{}",
            b.name
        );
        let d = engine.dialect();
        assert_same_table(
            b.name,
            d,
            Author::table(),
            live.def("rf_authors").expect("authors"),
        );
        assert_same_table(
            b.name,
            d,
            Book::table(),
            live.def("rf_books").expect("books"),
        );
        assert_same_table(
            b.name,
            d,
            &reviews,
            live.def("rf_reviews").expect("reviews"),
        );

        let plan = quarry::migrate::diff(&META, engine).expect("diff");
        assert!(
            plan.is_empty(),
            "{}: in sync, yet the diff says:\n{plan}",
            b.name
        );
    }
}

#[test]
fn a_reflected_table_runs_statements_and_gives_rows() {
    for b in backends("reflect_statements") {
        let engine = &b.engine;
        Author::table().create(engine).expect("create");
        engine
            .execute(insert!(Author {
                name: "le guin",
                born: Some(1929)
            }))
            .expect("insert");
        let authors: DefinedTable = quarry::reflect_table(engine, "rf_authors")
            .expect("reflect")
            .expect("the table exists");
        engine
            .execute(
                authors
                    .insert()
                    .value_named("name", "borges")
                    .value_named("born", 1899),
            )
            .expect("insert through the reflected table");
        let born = authors.column::<Option<i32>>("born").expect("born");
        let rows: Vec<Row> = engine
            .execute(authors.select().filter(born.lt(1920)))
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(rows.len(), 1, "{}", b.name);
        assert_eq!(
            rows[0].get::<String>("name").expect("name"),
            "borges",
            "{}",
            b.name
        );
        assert!(
            quarry::reflect_table(engine, "rf_nothing")
                .expect("reflect")
                .is_none()
        );
    }
}

#[test]
fn checks_enums_and_composite_keys_are_read_where_the_backend_reports_them() {
    for b in backends("reflect_extras") {
        let engine = &b.engine;
        if b.is_postgres() {
            engine
                .execute(text("CREATE TYPE rf_mood AS ENUM ('sad', 'ok', 'happy')"))
                .expect("enum");
        }
        let mood = if b.is_postgres() {
            "rf_mood"
        } else {
            "VARCHAR(10)"
        };
        engine
            .execute(text(format!(
                "CREATE TABLE rf_votes (poll INTEGER NOT NULL, voter VARCHAR(20) NOT NULL, \
                 stars INTEGER NOT NULL CHECK (stars > 0), mood {mood}, \
                 PRIMARY KEY (poll, voter))"
            )))
            .expect("table");
        let live = quarry::reflect(engine).expect("reflect");
        let votes = live.def("rf_votes").expect("rf_votes");
        let keys: Vec<&str> = votes.primary_key().map(|c| c.name()).collect();
        assert_eq!(keys, ["poll", "voter"], "{}", b.name);
        assert!(
            votes.primary_key().all(|c| !c.is_autoincrement()),
            "{}",
            b.name
        );
        if b.is_postgres() {
            assert_eq!(
                live.enums(),
                [(
                    "rf_mood".to_owned(),
                    vec!["sad".to_owned(), "ok".to_owned(), "happy".to_owned()]
                )]
            );
            let mood = votes.column("mood").expect("mood");
            assert_eq!(mood.custom_type_name(), Some("rf_mood"));
        }
        {
            let checks: Vec<&str> = votes.checks().iter().map(|c| c.expression()).collect();
            assert_eq!(checks.len(), 1, "{}: {checks:?}", b.name);
            assert!(
                checks[0].contains("stars") && checks[0].contains('0'),
                "{}: {checks:?}",
                b.name
            );
        }
    }
}
