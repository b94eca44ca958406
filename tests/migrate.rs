//! Migrations on every backend: the diff of every change kind (and nothing when in sync),
//! applied with the rows kept (SQLite by its table rebuild, foreign keys included), the lint
//! refusing drops, the `Migrator` (files and `embed_migrations!`, checksums, a failed
//! migration recorded truthfully, two runners racing) and `autogenerate`.

mod support;

use std::path::PathBuf;

use quarry::migrate::{Migration, Migrator, Op, Renames};
use quarry::prelude::*;
use support::backends;

pub static V1: MetaData = MetaData::new();
pub static V2: MetaData = MetaData::new();

mod v1 {
    use super::V1;
    use quarry::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mg_authors", metadata = V1)]
    pub struct Author {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50)]
        pub name: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mg_books", metadata = V1)]
    pub struct Book {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Author::id)]
        pub author_id: i64,
        #[column(max_length = 100)]
        pub title: String,
        pub note: Option<String>,
        #[column(max_length = 10)]
        pub shelf: String,
        pub pages: i32,
    }
}

mod v2 {
    use super::V2;
    use quarry::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mg_authors", metadata = V2)]
    pub struct Author {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50)]
        pub name: String,
    }

    /// `note` dropped, `title` nullable, `pages` wider, `shelf` indexed, `language` added.
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mg_books", metadata = V2)]
    pub struct Book {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Author::id)]
        pub author_id: i64,
        #[column(max_length = 100)]
        pub title: Option<String>,
        #[column(max_length = 10, index)]
        pub shelf: String,
        pub pages: i64,
        #[column(max_length = 8, default = "en")]
        pub language: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mg_reviews", metadata = V2)]
    pub struct Review {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Book::id)]
        pub book_id: i64,
        pub stars: i16,
    }
}

fn seed(engine: &Engine) {
    let mut conn = engine.connect().expect("connect");
    conn.execute(insert!(v1::Author { name: "le guin" }))
        .expect("author");
    for (title, shelf) in [("earthsea", "a1"), ("the dispossessed", "b2")] {
        conn.execute(insert!(v1::Book {
            author_id: 1,
            title: title,
            note: Some("keep".to_owned()),
            shelf: shelf,
            pages: 250
        }))
        .expect("book");
    }
}

#[test]
fn the_diff_names_every_change_and_applies_keeping_rows_and_foreign_keys_on_every_backend() {
    for b in backends("migrate_diff") {
        let engine = &b.engine;
        V1.create_all(engine).expect("create v1");
        seed(engine);
        assert!(
            quarry::migrate::diff(&V1, engine).expect("diff").is_empty(),
            "{}: v1 is in sync",
            b.name
        );

        let plan = quarry::migrate::diff(&V2, engine).expect("diff v2");
        let steps: Vec<String> = plan.ops().iter().map(ToString::to_string).collect();
        for expected in [
            "create table mg_reviews",
            "add column mg_books.language",
            "alter column mg_books.title (nullability)",
            "alter column mg_books.pages (type)",
            "drop column mg_books.note",
            "add index ix_mg_books_shelf on mg_books",
        ] {
            assert!(
                steps.iter().any(|s| s == expected),
                "{}: no {expected:?} in {steps:?}",
                b.name
            );
        }
        assert_eq!(steps.len(), 6, "{}: {steps:?}", b.name);
        // Parents first: the new table comes after nothing it needs, drops come before adds.
        let at = |s: &str| steps.iter().position(|x| x == s).expect("step");
        assert!(at("drop column mg_books.note") > at("add column mg_books.language"));

        // The lint refuses the drop until a human allows it.
        let refused = plan.sql(engine.dialect()).expect_err("destructive");
        assert!(
            refused
                .to_string()
                .contains("drop column mg_books.note loses its values"),
            "{refused}"
        );
        let plan = plan.allow_destructive(true);
        quarry::migrate::apply(engine, &plan).expect("apply");

        assert!(
            quarry::migrate::diff(&V2, engine).expect("diff").is_empty(),
            "{}: in sync after apply, yet: {}",
            b.name,
            quarry::migrate::diff(&V2, engine).expect("diff")
        );
        let books: Vec<v2::Book> = engine
            .execute(select!(v2::Book ORDER BY v2::Book::id))
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(books.len(), 2, "{}: rows kept", b.name);
        assert_eq!(books[0].title.as_deref(), Some("earthsea"), "{}", b.name);
        assert_eq!(
            books[1].language, "en",
            "{}: the default filled old rows",
            b.name
        );
        assert_eq!(books[1].shelf, "b2", "{}", b.name);
        // The foreign key survived (SQLite rebuilt the table).
        let live = quarry::reflect(engine).expect("reflect");
        let author_id = live
            .def("mg_books")
            .and_then(|t| t.column("author_id").cloned());
        assert_eq!(
            author_id.as_ref().and_then(|c| c.references_table()),
            Some(("mg_authors", "id")),
            "{}",
            b.name
        );
        assert!(live.def("_quarry_tmp_mg_books").is_none(), "{}", b.name);
    }
}

#[test]
fn sqlite_rebuilds_a_table_in_move_and_copy_steps() {
    let engine = create_engine("sqlite://").expect("engine");
    V1.create_all(&engine).expect("create v1");
    seed(&engine);
    let plan = quarry::migrate::diff(&V2, &engine)
        .expect("diff")
        .allow_destructive(true);
    let sql = plan.sql(engine.dialect()).expect("sql");
    let rebuild: Vec<&str> = sql
        .iter()
        .map(String::as_str)
        .filter(|s| s.contains("_quarry_tmp_mg_books") || s.starts_with("DROP TABLE mg_books"))
        .collect();
    assert!(
        rebuild[0].starts_with("CREATE TABLE _quarry_tmp_mg_books ("),
        "{sql:#?}"
    );
    assert!(
        rebuild[0].contains("FOREIGN KEY(author_id) REFERENCES mg_authors (id)"),
        "{sql:#?}"
    );
    assert_eq!(
        rebuild[1],
        "INSERT INTO _quarry_tmp_mg_books (id, author_id, title, shelf, pages) \
         SELECT id, author_id, title, shelf, pages FROM mg_books"
    );
    assert_eq!(rebuild[2], "DROP TABLE mg_books");
    assert_eq!(
        rebuild[3],
        "ALTER TABLE _quarry_tmp_mg_books RENAME TO mg_books"
    );
    assert!(sql.contains(&"CREATE INDEX ix_mg_books_shelf ON mg_books (shelf)".to_owned()));
}

#[test]
fn the_lint_refuses_to_drop_a_table_the_metadata_does_not_declare() {
    for b in backends("migrate_lint") {
        let engine = &b.engine;
        V2.create_all(engine).expect("create");
        engine
            .execute(text(
                "CREATE TABLE mg_stray (id INTEGER NOT NULL, PRIMARY KEY (id))",
            ))
            .expect("stray table");
        let plan = quarry::migrate::diff(&V2, engine).expect("diff");
        assert!(
            matches!(plan.ops(), [Op::DropTable { table }] if table.name() == "mg_stray"),
            "{}: {plan}",
            b.name
        );
        let err = plan.sql(engine.dialect()).expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains("drop table mg_stray loses its rows"), "{msg}");
        assert!(msg.contains("allow_destructive"), "{msg}");
        assert!(quarry::migrate::apply(engine, &plan).is_err());
        assert!(
            quarry::reflect_table(engine, "mg_stray")
                .expect("reflect")
                .is_some()
        );
    }
}

#[test]
fn a_rename_is_never_guessed_but_follows_a_hint() {
    let engine = create_engine("sqlite://").expect("engine");
    V2.create_all(&engine).expect("create");
    engine
        .execute(text("ALTER TABLE mg_reviews RENAME COLUMN stars TO rating"))
        .expect("rename by hand");
    let guessed = quarry::migrate::diff(&V2, &engine).expect("diff");
    assert_eq!(
        guessed.to_string(),
        "add column mg_reviews.stars\ndrop column mg_reviews.rating\n"
    );
    let hinted = quarry::migrate::diff_with(
        &V2,
        &engine,
        &Renames::new().column("mg_reviews", "rating", "stars"),
    )
    .expect("diff");
    assert_eq!(
        hinted.to_string(),
        "rename column mg_reviews.rating to stars\n"
    );
    quarry::migrate::apply(&engine, &hinted).expect("apply");
    assert!(
        quarry::migrate::diff(&V2, &engine)
            .expect("diff")
            .is_empty()
    );
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations")
}

fn count_notes(engine: &Engine) -> i64 {
    engine
        .execute(text("SELECT count(*) FROM mg_notes").columns::<i64>())
        .expect("count")
        .scalar()
        .expect("scalar")
}

#[test]
fn migrations_from_files_and_embedded_run_revert_and_report_status_on_every_backend() {
    let from_dir = Migrator::from_dir(fixtures()).expect("from_dir");
    let embedded = quarry::embed_migrations!("tests/fixtures/migrations");
    assert_eq!(from_dir.migrations().len(), 2);
    for (a, e) in from_dir.migrations().iter().zip(embedded.migrations()) {
        assert_eq!(
            (a.version(), a.name(), a.checksum()),
            (e.version(), e.name(), e.checksum())
        );
    }
    for b in backends("migrate_files") {
        let engine = &b.engine;
        let mut seen = Vec::new();
        let applied = embedded
            .run_with(engine, |a| seen.push(a.version))
            .expect("run");
        assert_eq!(applied.len(), 2, "{}", b.name);
        assert_eq!(seen, [1, 2]);
        assert_eq!(count_notes(engine), 2, "{}", b.name);
        assert!(
            from_dir.run(engine).expect("run again").is_empty(),
            "{}: nothing pending",
            b.name
        );
        assert!(
            from_dir
                .status(engine)
                .expect("status")
                .iter()
                .all(|s| s.applied && !s.changed)
        );

        from_dir.revert(engine, 1).expect("revert");
        assert_eq!(count_notes(engine), 0, "{}", b.name);
        let status = from_dir.status(engine).expect("status");
        assert_eq!(
            status.iter().map(|s| s.applied).collect::<Vec<_>>(),
            [true, false]
        );
        from_dir.run(engine).expect("run");
        assert_eq!(count_notes(engine), 2, "{}", b.name);
    }
}

#[test]
fn an_edited_applied_migration_is_refused_naming_the_file() {
    for b in backends("migrate_checksum") {
        let engine = &b.engine;
        let original = Migrator::from_dir(fixtures()).expect("from_dir");
        original.run(engine).expect("run");
        let mut edited: Vec<Migration> = original.migrations().to_vec();
        edited[1] = Migration::new(
            2,
            "seed_notes",
            "INSERT INTO mg_notes (id, body) VALUES (3, 'edited');",
            None,
            "migrations/002_seed_notes/up.sql",
        );
        let err = Migrator::new(edited)
            .expect("new")
            .run(engine)
            .expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains("migration 002_seed_notes was applied with checksum"),
            "{msg}"
        );
        assert!(
            msg.contains("migrations/002_seed_notes/up.sql now has checksum"),
            "{msg}"
        );
        assert!(msg.contains("new migration"), "{msg}");
        let status = Migrator::new(vec![])
            .expect("new")
            .status(engine)
            .expect("status");
        assert!(status.iter().all(|s| s.missing && s.applied));
    }
}

#[test]
fn a_failed_migration_leaves_the_version_table_telling_the_truth() {
    for b in backends("migrate_failure") {
        let engine = &b.engine;
        let migrator = Migrator::new(vec![
            Migration::new(
                1,
                "ok",
                "CREATE TABLE mg_ok (id INTEGER NOT NULL, PRIMARY KEY (id));",
                None,
                "1",
            ),
            Migration::new(
                2,
                "broken",
                "CREATE TABLE mg_half (id INTEGER NOT NULL, PRIMARY KEY (id));\nCREATE TABLE mg_broken (id NOT A TYPE);",
                None,
                "2",
            ),
        ])
        .expect("new");
        let err = migrator.run(engine).expect_err("fails");
        let msg = err.to_string();
        assert!(
            msg.contains("migration 002_broken failed at statement 2 of 2"),
            "{msg}"
        );
        let status = migrator.status(engine).expect("status");
        assert!(status[0].applied, "{}", b.name);
        assert!(!status[1].applied, "{}", b.name);
        let half = quarry::reflect_table(engine, "mg_half")
            .expect("reflect")
            .is_some();
        if b.is_mysql() {
            // DDL committed statement by statement: the migration is recorded as failed, and
            // run refuses until a human repaired the database and resolved it.
            assert!(status[1].failed && half, "{}", b.name);
            assert!(msg.contains("statements 1 to 1 stayed applied"), "{msg}");
            let again = migrator.run(engine).expect_err("refused");
            assert!(
                again.to_string().contains("failed part-way earlier"),
                "{again}"
            );
            engine.execute(text("DROP TABLE mg_half")).expect("repair");
            assert!(migrator.resolve(engine, 2).expect("resolve"));
            assert!(!migrator.status(engine).expect("status")[1].failed);
        } else {
            assert!(
                !status[1].failed && !half,
                "{}: rolled back as a whole",
                b.name
            );
            assert!(msg.contains("rolled back"), "{msg}");
        }
    }
}

#[test]
fn two_runners_starting_at_once_apply_each_migration_once() {
    for b in backends("migrate_race") {
        if b.name == "sqlite-memory" {
            continue; // each engine would have a database of its own
        }
        let migrator = Migrator::new(vec![
            Migration::new(
                1,
                "create",
                "CREATE TABLE mg_race (id INTEGER NOT NULL, PRIMARY KEY (id));",
                None,
                "1",
            ),
            Migration::new(2, "seed", "INSERT INTO mg_race (id) VALUES (1);", None, "2"),
            Migration::new(3, "more", "INSERT INTO mg_race (id) VALUES (2);", None, "3"),
        ])
        .expect("new");
        let results: Vec<usize> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..2)
                .map(|_| {
                    let url = b.url.clone();
                    let migrator = migrator.clone();
                    s.spawn(move || {
                        let engine = Engine::builder(&url).build().expect("engine");
                        migrator.run(&engine).map(|a| a.len())
                    })
                })
                .collect();
            runs.into_iter()
                .map(|r| r.join().expect("thread").expect("run"))
                .collect()
        });
        assert_eq!(results.iter().sum::<usize>(), 3, "{}: {results:?}", b.name);
        let n: i64 = b
            .engine
            .execute(text("SELECT count(*) FROM mg_race").columns::<i64>())
            .expect("count")
            .scalar()
            .expect("scalar");
        assert_eq!(n, 2, "{}", b.name);
    }
}

#[test]
fn autogenerate_writes_a_reviewable_migration_that_brings_the_database_in_sync() {
    for b in backends("migrate_autogenerate") {
        let engine = &b.engine;
        let dir =
            std::env::temp_dir().join(format!("quarry_autogen_{}_{}", b.name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        V1.create_all(engine).expect("create v1");
        seed(engine);
        // The drop of `note` is destructive: refused until allowed.
        let refused = quarry::migrate::autogenerate(&V2, engine, &dir, "v2").expect_err("refused");
        assert!(
            refused.to_string().contains("drop column mg_books.note"),
            "{refused}"
        );
        let path =
            quarry::migrate::autogenerate_with(&V2, engine, &dir, "v2", &Renames::new(), true)
                .expect("autogenerate")
                .expect("a migration");
        assert!(path.ends_with("001_v2"), "{}", path.display());
        let up = std::fs::read_to_string(path.join("up.sql")).expect("up.sql");
        assert!(up.contains("--   add column mg_books.language"), "{up}");
        assert!(
            up.contains("-- DESTRUCTIVE: drop column mg_books.note"),
            "{up}"
        );
        let down = std::fs::read_to_string(path.join("down.sql")).expect("down.sql");
        assert!(
            down.contains("--   drop column mg_books.language"),
            "{down}"
        );

        let migrator = Migrator::from_dir(&dir).expect("from_dir");
        migrator.run(engine).expect("run");
        assert!(
            quarry::migrate::diff(&V2, engine).expect("diff").is_empty(),
            "{}",
            b.name
        );
        assert!(
            quarry::migrate::autogenerate(&V2, engine, &dir, "nothing")
                .expect("autogenerate")
                .is_none(),
            "{}: in sync, nothing to write",
            b.name
        );
        migrator.revert(engine, 1).expect("revert");
        assert!(
            quarry::migrate::diff(&V1, engine).expect("diff").is_empty(),
            "{}: back to v1",
            b.name
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

pub static V3: MetaData = MetaData::new();

mod v3 {
    use super::V3;
    use quarry::prelude::*;

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mg_parents", metadata = V3)]
    pub struct Parent {
        #[column(primary_key)]
        pub id: i64,
        pub name: Option<String>,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mg_children", metadata = V3)]
    pub struct Child {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Parent::id, on_delete = "cascade")]
        pub parent_id: i64,
    }
}

#[test]
fn a_sqlite_rebuild_with_foreign_keys_enforced_keeps_the_rows_that_reference_the_table() {
    let engine = create_engine("sqlite://").expect("engine");
    let mut conn = engine.connect().expect("connect");
    for sql in [
        "PRAGMA foreign_keys = ON",
        "CREATE TABLE mg_parents (id INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (id))",
        "CREATE TABLE mg_children (id INTEGER NOT NULL, parent_id BIGINT NOT NULL, PRIMARY KEY (id), \
         FOREIGN KEY(parent_id) REFERENCES mg_parents (id) ON DELETE CASCADE)",
        "INSERT INTO mg_parents (id, name) VALUES (1, 'a')",
        "INSERT INTO mg_children (id, parent_id) VALUES (10, 1)",
    ] {
        conn.execute(text(sql)).expect(sql);
    }
    drop(conn);
    let plan = quarry::migrate::diff(&V3, &engine).expect("diff");
    assert_eq!(
        plan.to_string(),
        "alter column mg_parents.name (nullability)\n"
    );
    quarry::migrate::apply(&engine, &plan).expect("apply");
    let children: Vec<v3::Child> = engine
        .execute(select!(v3::Child))
        .expect("select")
        .all()
        .expect("rows");
    assert_eq!(
        children,
        [v3::Child {
            id: 10,
            parent_id: 1
        }],
        "the cascade did not fire"
    );
    let on: i64 = engine
        .execute(text("PRAGMA foreign_keys").columns::<i64>())
        .expect("pragma")
        .scalar()
        .expect("scalar");
    assert_eq!(on, 1, "enforcement is back on");
}

pub static V4: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "mg_pk", metadata = V4, primary_key(a, b))]
pub struct Pair {
    pub a: i32,
    #[column(max_length = 10)]
    pub b: String,
}

#[test]
fn a_primary_key_change_is_diffed_and_applied_on_every_backend() {
    for b in backends("migrate_primary_key") {
        let engine = &b.engine;
        engine
            .execute(text(
                "CREATE TABLE mg_pk (a INTEGER NOT NULL, b VARCHAR(10) NOT NULL, PRIMARY KEY (a))",
            ))
            .expect("create");
        engine
            .execute(text("INSERT INTO mg_pk (a, b) VALUES (1, 'x')"))
            .expect("insert");
        let plan = quarry::migrate::diff(&V4, engine).expect("diff");
        assert!(
            plan.ops()
                .iter()
                .any(|op| op.to_string() == "alter primary key of mg_pk to (a, b)"),
            "{}: {plan}",
            b.name
        );
        quarry::migrate::apply(engine, &plan).expect("apply");
        assert!(
            quarry::migrate::diff(&V4, engine).expect("diff").is_empty(),
            "{}",
            b.name
        );
        engine
            .execute(insert!(Pair { a: 1, b: "y" }))
            .expect("a second row with the same a");
        let rows: Vec<Pair> = engine
            .execute(select!(Pair ORDER BY Pair::b))
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(rows.len(), 2, "{}", b.name);
    }
}
