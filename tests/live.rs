//! Runtime behaviour against real databases, one suite over every backend available.
//!
//! The backends — SQLite in memory and in a file, PostgreSQL, MariaDB — come from
//! `support::backends`, each test on a fresh database of its own (see tests/support/mod.rs).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use quarry::prelude::*;
use quarry::{DatabaseErrorKind, Value};

/// A fresh SQLite file path under the system temp dir, removed on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("quarry-{}-{tag}-{n}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempDb(path)
    }
    fn url(&self) -> String {
        // `sqlite:////abs/path`: three slashes, then the absolute path's own.
        format!("sqlite:///{}", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

mod support;

use support::backends;

mod people {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "people", metadata = META)]
    pub struct Person {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50, unique)]
        pub name: String,
        pub nickname: Option<String>,
        #[column(default = 0)]
        pub age: i32,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "pets", metadata = META)]
    pub struct Pet {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Person::id, index)]
        pub owner_id: i64,
        pub name: String,
    }
}

use people::{Person, Pet};

fn person(name: &str, nickname: Option<&str>, age: i32) -> Person {
    Person {
        id: 0,
        name: name.into(),
        nickname: nickname.map(Into::into),
        age,
    }
}

#[test]
fn create_all_checks_first_and_drop_all_removes_children_first() {
    for backend in backends("ddl") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        people::META
            .create_all(&engine)
            .expect("second create_all is a no-op");
        assert!(Person::table().exists(&engine).unwrap(), "{name}");
        assert!(Pet::table().exists(&engine).unwrap(), "{name}");
        people::META.drop_all(&engine).unwrap();
        assert!(!Person::table().exists(&engine).unwrap(), "{name}");
        assert!(!Pet::table().exists(&engine).unwrap(), "{name}");
        people::META
            .drop_all(&engine)
            .expect("second drop_all is a no-op");
    }
}

#[test]
fn insert_assigns_keys_and_select_decodes_rows() {
    for backend in backends("roundtrip") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        let mut conn = engine.connect().unwrap();
        let first = conn
            .execute(insert!(Person {
                name: "ann",
                nickname: None,
                age: 31
            }))
            .unwrap();
        assert_eq!(first.rowcount(), 1, "{name}");
        let ann_id = first.last_insert_id().expect("sqlite reports the rowid");
        conn.execute(Person::insert(&person("bob", Some("bobby"), 40)))
            .unwrap();

        let everyone: Vec<Person> = conn
            .execute(select!(Person ORDER BY Person::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(
            everyone,
            [
                Person {
                    id: ann_id,
                    ..person("ann", None, 31)
                },
                Person {
                    id: ann_id + 1,
                    ..person("bob", Some("bobby"), 40)
                },
            ],
            "{name}"
        );

        conn.execute(insert!(Pet {
            owner_id: ann_id,
            name: "rex"
        }))
        .unwrap();
        let pets: Vec<Pet> = conn
            .execute(select!(Pet WHERE Pet::owner_id == ann_id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(pets.len(), 1, "{name}");
        assert_eq!(pets[0].name, "rex", "{name}");
    }
}

#[test]
fn server_default_applies_when_a_column_is_left_out() {
    for backend in backends("default") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        let mut conn = engine.connect().unwrap();
        conn.execute(insert!(Person {
            name: "cy",
            nickname: None
        }))
        .unwrap();
        let cy: Person = conn.execute(select!(Person)).unwrap().one().unwrap();
        assert_eq!(cy.age, 0, "{name}");
    }
}

#[test]
fn where_clauses_filter_on_the_database() {
    for backend in backends("filter") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        let mut conn = engine.connect().unwrap();
        let all = [
            person("ann", None, 31),
            person("bob", Some("bobby"), 40),
            person("cat", None, 25),
            person("dan", Some("d"), 52),
        ];
        conn.execute(Person::insert_many(&all)).unwrap();
        let names = |stmt: quarry::Select<Person>, conn: &mut Connection| -> Vec<String> {
            conn.execute(stmt)
                .unwrap()
                .map(|p| p.unwrap().name)
                .collect()
        };
        assert_eq!(
            names(
                select!(Person WHERE Person::nickname == None ORDER BY Person::name),
                &mut conn
            ),
            ["ann", "cat"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE Person::age > 30 && Person::age < 50 ORDER BY Person::name),
                &mut conn
            ),
            ["ann", "bob"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE !(Person::age >= 30) || Person::name == "dan" ORDER BY Person::age DESC),
                &mut conn
            ),
            ["dan", "cat"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person ORDER BY Person::name LIMIT 2 OFFSET 1),
                &mut conn
            ),
            ["bob", "cat"],
            "{name}"
        );
        assert_eq!(
            names(select!(Person ORDER BY Person::name OFFSET 3), &mut conn),
            ["dan"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE Person::name.like("%a%") ORDER BY Person::name),
                &mut conn
            ),
            ["ann", "cat", "dan"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE Person::name.not_like("%a%")),
                &mut conn
            ),
            ["bob"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE Person::age.in_([25, 52]) ORDER BY Person::age),
                &mut conn
            ),
            ["cat", "dan"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE Person::age.not_in([25, 52]) ORDER BY Person::age),
                &mut conn
            ),
            ["ann", "bob"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE Person::age.between(31, 40) ORDER BY Person::age),
                &mut conn
            ),
            ["ann", "bob"],
            "{name}"
        );
        assert_eq!(
            names(
                select!(Person WHERE !Person::age.between(31, 40) ORDER BY Person::age),
                &mut conn
            ),
            ["cat", "dan"],
            "{name}"
        );
        let nobody: [i32; 0] = [];
        assert!(
            names(select!(Person WHERE Person::age.in_(nobody)), &mut conn).is_empty(),
            "{name}"
        );
        assert_eq!(
            names(select!(Person WHERE Person::age.not_in(nobody)), &mut conn).len(),
            4,
            "{name}"
        );
        let nick = Some("bobby".to_owned());
        assert_eq!(
            names(select!(Person WHERE Person::nickname == nick), &mut conn),
            ["bob"],
            "{name}"
        );
    }
}

#[test]
fn rows_give_first_one_scalar_and_fetchmany() {
    for backend in backends("rows") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        let mut conn = engine.connect().unwrap();
        conn.execute(Person::insert_many(&[
            person("a", None, 1),
            person("b", None, 2),
            person("c", None, 3),
        ]))
        .unwrap();
        let q = || select!(Person ORDER BY Person::age);

        assert_eq!(
            conn.execute(q()).unwrap().first().unwrap().map(|p| p.age),
            Some(1),
            "{name}"
        );
        assert!(
            matches!(
                conn.execute(q()).unwrap().one(),
                Err(quarry::Error::MultipleRows)
            ),
            "{name}"
        );
        assert!(
            matches!(
                conn.execute(q()).unwrap().one_or_none(),
                Err(quarry::Error::MultipleRows)
            ),
            "{name}"
        );
        let none = select!(Person WHERE Person::age > 100);
        assert!(
            matches!(
                conn.execute(&none).unwrap().one(),
                Err(quarry::Error::NoRows)
            ),
            "{name}"
        );
        assert_eq!(
            conn.execute(&none).unwrap().one_or_none().unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            conn.execute(&none).unwrap().first().unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            conn.execute(q()).unwrap().scalar().unwrap().name,
            "a",
            "{name}"
        );

        let mut rows = conn.execute(q()).unwrap();
        assert_eq!(rows.keys(), ["id", "name", "nickname", "age"], "{name}");
        assert_eq!(rows.fetchmany(2).unwrap().len(), 2, "{name}");
        assert_eq!(rows.fetchmany(2).unwrap().len(), 1, "{name}");
        assert!(rows.fetchmany(2).unwrap().is_empty(), "{name}");
    }
}

#[test]
fn unique_violation_is_classified_and_carries_the_statement_but_not_the_values() {
    for backend in backends("unique") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        let mut conn = engine.connect().unwrap();
        conn.execute(insert!(Person {
            name: "secret-name",
            nickname: None,
            age: 1
        }))
        .unwrap();
        let err = conn
            .execute(insert!(Person {
                name: "secret-name",
                nickname: None,
                age: 2
            }))
            .unwrap_err();
        let db = err.as_database().expect("a database error");
        assert_eq!(db.kind(), DatabaseErrorKind::UniqueViolation, "{name}");
        let (constraint, message) = match name {
            "postgresql" => (
                "people_name_key",
                "duplicate key value violates unique constraint \"people_name_key\"",
            ),
            "mysql" => ("name", "Duplicate entry"),
            _ => ("people.name", "UNIQUE constraint failed: people.name"),
        };
        assert_eq!(db.constraint(), Some(constraint), "{name}");
        let insert = insert!(Person {
            name: "secret-name",
            nickname: None,
            age: 2
        });
        // As executed: on PostgreSQL with the RETURNING that learns the inserted key.
        let expected = quarry::Statement::compile_for_execution(&insert, engine.dialect()).unwrap();
        assert_eq!(db.sql(), Some(expected.sql()), "{name}");
        assert_eq!(db.params()[0], Value::Text("secret-name".into()), "{name}");
        let shown = err.to_string();
        assert!(shown.contains(message), "{name}: {shown}");
        // Quarry never prints parameter values; MySQL's own message quotes the duplicate.
        if name != "mysql" {
            assert!(
                !shown.contains("secret-name"),
                "{name}: parameter values leaked: {shown}"
            );
        }
        assert!(!err.is_disconnect());
    }
}

mod loose {
    //! Two views of one SQL table: one writes text where the other expects integers.
    use quarry::prelude::*;

    pub static WRITE: MetaData = MetaData::new();
    pub static READ: MetaData = MetaData::new();

    #[derive(Table, Debug)]
    #[table(name = "loose", metadata = WRITE)]
    pub struct Writer {
        #[column(primary_key)]
        pub id: i64,
        pub amount: Option<String>,
    }

    #[derive(Table, Debug)]
    #[table(name = "loose", metadata = READ)]
    pub struct Reader {
        #[column(primary_key)]
        pub id: i64,
        pub amount: i32,
    }
}

#[test]
fn decode_errors_name_the_column_the_rust_type_and_what_was_found() {
    use loose::{Reader, Writer};
    for backend in backends("decode") {
        let (name, engine) = (backend.name, backend.engine.clone());
        loose::WRITE.create_all(&engine).unwrap();
        let mut conn = engine.connect().unwrap();

        conn.execute(insert!(Writer {
            id: 1,
            amount: Some("lots".to_owned())
        }))
        .unwrap();
        let err = conn.execute(select!(Reader)).unwrap_err().to_string();
        assert_eq!(
            err, "cannot decode column \"amount\" as i32: found a TEXT value",
            "{name}"
        );

        conn.execute(insert!(Writer {
            id: 2,
            amount: None
        }))
        .unwrap_or_else(|e| panic!("{name}: insert after a decode error failed: {e}"));
        let err = conn
            .execute(select!(Reader WHERE Reader::id == 2))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err, "cannot decode column \"amount\" as i32: found NULL",
            "{name}"
        );
    }
}

mod extremes {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "extremes", metadata = META)]
    pub struct Extreme {
        #[column(primary_key, autoincrement = false)]
        pub id: i64,
        pub small: i16,
        pub int: i32,
        pub big: i64,
        pub single: f32,
        pub double: f64,
        pub flag: bool,
        pub text: String,
        pub bytes: Vec<u8>,
        pub maybe_big: Option<i64>,
        pub maybe_bytes: Option<Vec<u8>>,
        pub maybe_flag: Option<bool>,
    }

    #[derive(Table, Debug)]
    #[table(name = "extremes", metadata = META)]
    pub struct Narrow {
        #[column(primary_key, autoincrement = false)]
        pub id: i64,
        pub small: i16,
        pub int: i16,
    }
}

#[test]
fn every_scalar_type_round_trips_with_its_extremes() {
    use extremes::Extreme;
    let rows = [
        Extreme {
            id: 1,
            small: i16::MIN,
            int: i32::MIN,
            big: i64::MIN,
            single: f32::MIN_POSITIVE,
            double: f64::MIN,
            flag: false,
            text: String::new(),
            bytes: Vec::new(),
            maybe_big: None,
            maybe_bytes: None,
            maybe_flag: None,
        },
        Extreme {
            id: 2,
            small: i16::MAX,
            int: i32::MAX,
            big: i64::MAX,
            single: 1.5,
            double: f64::MAX,
            flag: true,
            text: "ünïcödé 🦀 \"quotes\" 'and' \\ back".into(),
            bytes: vec![0, 1, 0, 255, 0],
            maybe_big: Some(-1),
            maybe_bytes: Some(vec![0]),
            maybe_flag: Some(true),
        },
    ];
    for backend in backends("extremes") {
        let (name, engine) = (backend.name, backend.engine.clone());
        // Only the wide table is created; `Narrow` is a second view of it.
        Extreme::table().create(&engine).unwrap();
        let mut conn = engine.connect().unwrap();
        conn.execute(Extreme::insert_many(&rows)).unwrap();
        let back: Vec<Extreme> = conn
            .execute(select!(Extreme ORDER BY Extreme::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(back, rows, "{name}");

        let err = conn
            .execute(select!(extremes::Narrow WHERE extremes::Narrow::id == 2))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err, "cannot decode column \"int\" as i16: found 2147483647, which is out of range",
            "{name}"
        );
    }
}

#[test]
fn memory_database_is_shared_by_every_checkout_of_an_engine() {
    let engine = create_engine("sqlite://").unwrap();
    people::META.create_all(&engine).unwrap();
    engine
        .execute(insert!(Person {
            name: "ann",
            nickname: None,
            age: 1
        }))
        .unwrap();
    let found: Vec<Person> = engine.execute(select!(Person)).unwrap().all().unwrap();
    assert_eq!(found.len(), 1);
    // A second engine is a second, empty database.
    let other = create_engine("sqlite://").unwrap();
    assert!(!Person::table().exists(&other).unwrap());
}

#[test]
fn a_file_database_outlives_its_engine() {
    let db = TempDb::new("persist");
    {
        let engine = create_engine(&db.url()).unwrap();
        people::META.create_all(&engine).unwrap();
        engine
            .execute(insert!(Person {
                name: "kept",
                nickname: None,
                age: 9
            }))
            .unwrap();
        engine.dispose();
    }
    let engine = create_engine(&db.url()).unwrap();
    let kept: Person = engine.execute(select!(Person)).unwrap().one().unwrap();
    assert_eq!(kept.name, "kept");
}

#[test]
fn exhausted_pool_times_out_with_sqlalchemys_message() {
    let db = TempDb::new("timeout");
    let engine = Engine::builder(db.url())
        .pool_size(1)
        .max_overflow(0)
        .pool_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let held = engine.connect().unwrap();
    let started = Instant::now();
    let err = engine.connect().unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        err.to_string(),
        "pool limit of size 1 overflow 0 reached, connection timed out, timeout 150ms"
    );
    drop(held);
    engine.connect().expect("the returned connection is reused");
}

#[test]
fn a_connection_returned_while_a_waiter_blocks_is_handed_over() {
    let db = TempDb::new("handover");
    let engine = Engine::builder(db.url())
        .pool_size(1)
        .max_overflow(0)
        .pool_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let held = engine.connect().unwrap();
    let waiter = {
        let engine = engine.clone();
        std::thread::spawn(move || engine.connect().map(drop))
    };
    std::thread::sleep(Duration::from_millis(50));
    drop(held);
    waiter
        .join()
        .expect("waiter thread")
        .expect("waiter got the connection");
}

#[test]
fn urls_that_cannot_work_are_refused_with_the_reason() {
    let e = create_engine("sqlite://somehost/x.db")
        .unwrap_err()
        .to_string();
    assert!(e.contains("a SQLite URL has no host"), "{e}");
    let e = create_engine("mssql://x").unwrap_err().to_string();
    assert!(e.contains("unknown dialect \"mssql\""), "{e}");
    if !cfg!(feature = "postgres") {
        let e = create_engine("postgresql://postgres@127.0.0.1/test")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no driver for the \"postgresql\" dialect"),
            "{e}"
        );
    }
    let e = create_engine("postgresql+psycopg2://postgres@127.0.0.1/test")
        .unwrap_err()
        .to_string();
    assert!(e.contains("psycopg2"), "{e}");
    let e = create_engine("mysql://root@127.0.0.1:99999/test")
        .unwrap_err()
        .to_string();
    assert!(e.contains("port \"99999\""), "{e}");
    let e = Engine::builder("sqlite://")
        .max_overflow(-2)
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_overflow must be -1"), "{e}");
    let e = create_engine("sqlite:////nonexistent-dir/x.db")
        .and_then(|engine| engine.connect().map(drop))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot open SQLite database /nonexistent-dir/x.db"),
        "{e}"
    );
}

#[test]
fn compiled_statements_run_as_shown() {
    // What `compile` shows is what runs: the snapshot SQL executes on SQLite as it stands.
    for backend in backends("compiled") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        let stmt =
            select!(Person WHERE Person::name == "x" ORDER BY Person::id DESC LIMIT 1 OFFSET 0);
        let compiled = stmt.compile(engine.dialect()).unwrap();
        let expected = match name {
            "postgresql" => {
                "SELECT people.id, people.name, people.nickname, people.age FROM people \
                 WHERE people.name = $1 ORDER BY people.id DESC LIMIT $2 OFFSET $3"
            }
            "mysql" => {
                "SELECT people.id, people.name, people.nickname, people.age FROM people \
                 WHERE people.name = ? ORDER BY people.id DESC LIMIT ?, ?"
            }
            _ => {
                "SELECT people.id, people.name, people.nickname, people.age FROM people \
                 WHERE people.name = ? ORDER BY people.id DESC LIMIT ? OFFSET ?"
            }
        };
        assert_eq!(compiled.sql(), expected, "{name}");
        assert!(
            engine.execute(stmt).unwrap().all().unwrap().is_empty(),
            "{name}"
        );
    }
}

#[test]
fn update_and_delete_report_affected_rows_and_take_effect() {
    for backend in backends("update") {
        let (name, engine) = (backend.name, backend.engine.clone());
        people::META.create_all(&engine).unwrap();
        let mut conn = engine.connect().unwrap();
        let all = [
            person("ann", Some("a"), 31),
            person("bob", None, 40),
            person("cat", None, 25),
        ];
        conn.execute(Person::insert_many(&all)).unwrap();

        let changed = conn
            .execute(update!(Person SET nickname = None, age = 99 WHERE Person::age > 30))
            .unwrap()
            .rowcount();
        assert_eq!(changed, 2, "{name}");
        let ann: Person = conn
            .execute(select!(Person WHERE Person::name == "ann"))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!((ann.nickname, ann.age), (None, 99), "{name}");

        // An expression on the right: copy one column into another.
        conn.execute(
            Person::update()
                .set(Person::nickname, Person::name)
                .filter(Person::name.eq("cat")),
        )
        .unwrap();
        let cat: Person = conn
            .execute(select!(Person WHERE Person::name == "cat"))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(cat.nickname.as_deref(), Some("cat"), "{name}");

        let gone = conn
            .execute(delete!(Person WHERE Person::age == 99))
            .unwrap()
            .rowcount();
        assert_eq!(gone, 2, "{name}");
        let left: Vec<Person> = conn.execute(select!(Person)).unwrap().all().unwrap();
        assert_eq!(left.len(), 1, "{name}");
        assert_eq!(
            conn.execute(delete!(Person)).unwrap().rowcount(),
            1,
            "{name}"
        );
    }
}
