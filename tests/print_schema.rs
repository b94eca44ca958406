//! `print-schema`: a live database printed as `#[derive(Table)]` source. The source printed
//! from the database below is checked in as `fixtures/print_schema/generated.rs` and compiled
//! here as a module, so the output is known to compile; its `META` created on a fresh database
//! reads back to the same source and diffs to nothing.
//!
//! After an intended change of the output: `QUARRY_BLESS=1 cargo test --test print_schema`,
//! then review the fixture's diff.

#[path = "fixtures/print_schema/generated.rs"]
#[allow(dead_code)]
mod generated;

use quarry::prelude::*;

const FIXTURE: &str = "tests/fixtures/print_schema/generated.rs";

const DDL: &[&str] = &[
    "CREATE TABLE ps_authors (id INTEGER NOT NULL, name VARCHAR(80) NOT NULL, born SMALLINT, \
     PRIMARY KEY (id), UNIQUE (name))",
    "CREATE TABLE ps_books (id INTEGER NOT NULL, author_id BIGINT NOT NULL, title TEXT NOT NULL, \
     \"type\" VARCHAR(20) DEFAULT 'novel' NOT NULL, price DOUBLE DEFAULT 9.5, \
     in_print BOOLEAN DEFAULT 1 NOT NULL, copies INTEGER DEFAULT 3 NOT NULL, weight REAL, cover BLOB, \
     PRIMARY KEY (id), FOREIGN KEY(author_id) REFERENCES ps_authors (id) ON DELETE CASCADE)",
    "CREATE INDEX ix_ps_books_title ON ps_books (title)",
    "CREATE TABLE ps_tags (book_id BIGINT NOT NULL, tag VARCHAR(30) NOT NULL, \
     PRIMARY KEY (book_id, tag))",
];

#[test]
fn print_schema_output_compiles_and_round_trips() {
    let engine = create_engine("sqlite://").expect("engine");
    for sql in DDL {
        engine.execute(text(*sql)).expect("ddl");
    }
    let printed = quarry::migrate::print_schema(&quarry::reflect(&engine).expect("reflect"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    if std::env::var("QUARRY_BLESS").is_ok() {
        std::fs::write(&path, &printed).expect("bless");
    }
    let checked_in = std::fs::read_to_string(&path).expect("fixture");
    assert_eq!(
        printed, checked_in,
        "print-schema output changed; bless with QUARRY_BLESS=1 and review"
    );

    // The compiled source creates the same schema.
    let fresh = create_engine("sqlite://").expect("engine");
    generated::META.create_all(&fresh).expect("create_all");
    let again = quarry::migrate::print_schema(&quarry::reflect(&fresh).expect("reflect"));
    assert_eq!(again, printed);
    // … and the one it was printed from, foreign key actions included.
    assert!(
        quarry::migrate::diff(&generated::META, &engine)
            .expect("diff")
            .is_empty()
    );
}
