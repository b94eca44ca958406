//! `#[derive(SqlEnum)]` columns and the richer column types, on every backend: enums stored
//! as text (and as a PostgreSQL enum type), `Option<Enum>` with NULL, filters, select lists,
//! `IN`, dynamic rows; the DDL each dialect gets; `serde_json::Value` as `JSONB` on PostgreSQL.

mod support;

use quarry::Row;
use quarry::dialect::{Mysql, Postgres, Sqlite};
use quarry::prelude::*;
use quarry::schema_sql::{create_enum_type, create_table, drop_enum_type, enum_types};
use support::{Backend, backends};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    /// Stored as its variant names, as written.
    #[derive(SqlEnum, Debug, Clone, Copy, PartialEq)]
    pub enum Shelf {
        Fiction,
        NonFiction,
    }

    #[derive(SqlEnum, Debug, Clone, Copy, PartialEq)]
    #[sql_enum(rename_all = "snake_case")]
    pub enum LoanStatus {
        Active,
        Returned,
        LostForGood,
        #[sql_enum(rename = "in-repair")]
        InRepair,
    }

    /// A PostgreSQL enum type of its own; text elsewhere.
    #[derive(SqlEnum, Debug, Clone, Copy, PartialEq)]
    #[sql_enum(rename_all = "lowercase", postgres_type = "book_format")]
    pub enum Format {
        Hardcover,
        Paperback,
        Ebook,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "loans", metadata = META)]
    pub struct Loan {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 40)]
        pub borrower: String,
        pub status: LoanStatus,
        pub previous: Option<LoanStatus>,
        #[column(max_length = 20)]
        pub shelf: Shelf,
        pub format: Format,
        pub alternative: Option<Format>,
    }
}

use model::{Format, Loan, LoanStatus, META, Shelf};

fn loan(borrower: &str, status: LoanStatus, previous: Option<LoanStatus>) -> Loan {
    Loan {
        id: 0,
        borrower: borrower.into(),
        status,
        previous,
        shelf: Shelf::NonFiction,
        format: Format::Paperback,
        alternative: None,
    }
}

fn setup(b: &Backend) -> Connection {
    META.create_all(&b.engine).expect("create_all");
    let mut conn = b.engine.connect().expect("connect");
    conn.execute(insert!(Loan {
        borrower: "ann",
        status: LoanStatus::Active,
        previous: None,
        shelf: Shelf::Fiction,
        format: Format::Hardcover,
        alternative: Some(Format::Ebook)
    }))
    .expect("insert!");
    conn.execute(Loan::insert(&loan(
        "bob",
        LoanStatus::LostForGood,
        Some(LoanStatus::Active),
    )))
    .expect("Loan::insert");
    conn.execute(Loan::insert(&loan(
        "cy",
        LoanStatus::InRepair,
        Some(LoanStatus::Returned),
    )))
    .expect("Loan::insert");
    conn
}

#[test]
fn labels_follow_rename_all_and_rename() {
    assert_eq!(LoanStatus::LostForGood.label(), "lost_for_good");
    assert_eq!(LoanStatus::InRepair.label(), "in-repair");
    assert_eq!(Shelf::NonFiction.label(), "NonFiction");
    assert_eq!(Format::Ebook.label(), "ebook");
    assert_eq!(
        LoanStatus::from_label("returned"),
        Some(LoanStatus::Returned)
    );
    assert_eq!(LoanStatus::from_label("Returned"), None);
    assert_eq!(
        <LoanStatus as quarry::SqlEnum>::TYPE.labels(),
        &["active", "returned", "lost_for_good", "in-repair"]
    );
}

#[test]
fn enum_columns_round_trip_with_null_on_every_backend() {
    for b in backends("enum_round_trip") {
        let mut conn = setup(&b);
        let all: Vec<Loan> = conn
            .execute(select!(Loan ORDER BY Loan::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(all.len(), 3, "{}", b.name);
        assert_eq!(all[0].status, LoanStatus::Active, "{}", b.name);
        assert_eq!(all[0].previous, None, "{}", b.name);
        assert_eq!(all[0].shelf, Shelf::Fiction, "{}", b.name);
        assert_eq!(all[0].format, Format::Hardcover, "{}", b.name);
        assert_eq!(all[0].alternative, Some(Format::Ebook), "{}", b.name);
        assert_eq!(
            all[1],
            Loan {
                id: all[1].id,
                ..loan("bob", LoanStatus::LostForGood, Some(LoanStatus::Active))
            },
            "{}",
            b.name
        );
        // Stored as the label: read back as text through a dynamic row.
        let stored: String = conn
            .execute(text("SELECT status FROM loans WHERE borrower = 'cy'"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(stored, "in-repair", "{}", b.name);
        // And a dynamic row decodes the enum too.
        let row: Row = conn
            .execute(text(
                "SELECT previous, status FROM loans WHERE borrower = 'bob'",
            ))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(
            row.get::<Option<LoanStatus>>("previous").unwrap(),
            Some(LoanStatus::Active),
            "{}",
            b.name
        );
        assert_eq!(
            row.get::<LoanStatus>("status").unwrap(),
            LoanStatus::LostForGood
        );
    }
}

#[test]
fn enum_columns_in_filters_select_lists_and_updates() {
    for b in backends("enum_filters") {
        let mut conn = setup(&b);
        let lost = LoanStatus::LostForGood;
        let who: Vec<String> = conn
            .execute(select!(Loan::borrower FROM Loan WHERE Loan::status == lost))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(who, ["bob"], "{}", b.name);
        // Option<Enum>: compared with Some(…), tested for NULL.
        let had: Vec<String> = conn
            .execute(select!(Loan::borrower FROM Loan
                WHERE Loan::previous == Some(LoanStatus::Returned)))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(had, ["cy"], "{}", b.name);
        let fresh: Vec<String> = conn
            .execute(select!(Loan::borrower FROM Loan WHERE Loan::previous.is_null()))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(fresh, ["ann"], "{}", b.name);
        // In a select list, nullable and not; IN a list of variants; a native-typed column.
        let pairs: Vec<(LoanStatus, Option<LoanStatus>, Format)> = conn
            .execute(select!(Loan::status, Loan::previous, Loan::format FROM Loan
                WHERE Loan::status.in_([LoanStatus::Active, LoanStatus::InRepair])
                ORDER BY Loan::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(
            pairs,
            [
                (LoanStatus::Active, None, Format::Hardcover),
                (
                    LoanStatus::InRepair,
                    Some(LoanStatus::Returned),
                    Format::Paperback
                )
            ],
            "{}",
            b.name
        );
        let ebook_first: Vec<String> = conn
            .execute(
                select!(Loan::borrower FROM Loan WHERE Loan::alternative == Some(Format::Ebook)),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(ebook_first, ["ann"], "{}", b.name);
        // The builder form and update!.
        conn.execute(
            update!(Loan SET status = LoanStatus::Returned, previous = None
            WHERE Loan::status == LoanStatus::Active),
        )
        .unwrap();
        let returned = conn
            .execute(
                Loan::select()
                    .filter(Loan::status.eq(LoanStatus::Returned))
                    .filter(Loan::previous.is_null()),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(returned.len(), 1, "{}", b.name);
        assert_eq!(returned[0].borrower, "ann", "{}", b.name);
        let n = conn
            .execute(select!(count(Loan::id) FROM Loan WHERE Loan::status != LoanStatus::Returned))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 2, "{}", b.name);
    }
}

#[test]
fn an_unknown_label_is_a_decode_error_naming_the_column_and_the_labels() {
    for b in backends("enum_unknown_label") {
        let mut conn = setup(&b);
        conn.execute(text(
            "UPDATE loans SET status = 'misplaced' WHERE borrower = 'ann'",
        ))
        .unwrap();
        let err = conn
            .execute(select!(Loan WHERE Loan::borrower == "ann"))
            .and_then(|r| r.one())
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Decode(_)), "{}: {msg}", b.name);
        assert!(msg.contains("\"status\""), "{}: {msg}", b.name);
        assert!(msg.contains("LoanStatus"), "{}: {msg}", b.name);
        assert!(msg.contains("\"misplaced\""), "{}: {msg}", b.name);
        assert!(msg.contains("\"lost_for_good\""), "{}: {msg}", b.name);
    }
}

#[test]
fn enums_are_varchar_of_the_longest_label_or_a_postgres_type() {
    let loans = Loan::table();
    assert_eq!(
        create_table(loans, &Sqlite).unwrap(),
        "CREATE TABLE loans (\n\tid INTEGER NOT NULL, \n\tborrower VARCHAR(40) NOT NULL, \n\t\
         status VARCHAR(13) NOT NULL, \n\tprevious VARCHAR(13), \n\tshelf VARCHAR(20) NOT NULL, \
         \n\tformat VARCHAR(9) NOT NULL, \n\talternative VARCHAR(9), \n\tPRIMARY KEY (id)\n)"
    );
    let pg = create_table(loans, &Postgres).unwrap();
    assert!(pg.contains("\n\tformat book_format NOT NULL, "), "{pg}");
    assert!(pg.contains("\n\talternative book_format, "), "{pg}");
    assert!(pg.contains("\n\tstatus VARCHAR(13) NOT NULL, "), "{pg}");
    let my = create_table(loans, &Mysql).unwrap();
    assert!(my.contains("\n\tformat VARCHAR(9) NOT NULL, "), "{my}");

    let types = enum_types([loans], &Postgres);
    assert_eq!(types.len(), 1);
    assert_eq!(
        create_enum_type(types[0], &Postgres),
        "CREATE TYPE book_format AS ENUM ('hardcover', 'paperback', 'ebook')"
    );
    assert_eq!(drop_enum_type(types[0], &Postgres), "DROP TYPE book_format");
    assert!(enum_types([loans], &Sqlite).is_empty());
    assert!(enum_types([loans], &Mysql).is_empty());
}

#[test]
fn create_all_creates_the_postgres_enum_type_and_drop_all_drops_it() {
    for b in backends("enum_native") {
        if !b.is_postgres() {
            continue;
        }
        let mut conn = setup(&b);
        let typ = "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                   WHERE n.nspname = current_schema() AND typname = 'book_format'";
        let udt: String = conn
            .execute(text(
                "SELECT udt_name FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = 'loans' \
                 AND column_name = 'format'",
            ))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(udt, "book_format");
        assert_eq!(conn.execute(text(typ)).unwrap().all().unwrap().len(), 1);
        // Idempotent: the type (and table) exist, nothing is created twice.
        META.create_all(&b.engine).unwrap();
        META.drop_all(&b.engine).unwrap();
        assert_eq!(conn.execute(text(typ)).unwrap().all().unwrap().len(), 0);
        META.drop_all(&b.engine).unwrap();
    }
}

#[cfg(feature = "serde_json")]
mod json {
    use super::support::backends;
    use quarry::dialect::{Mysql, Postgres, Sqlite};
    use quarry::prelude::*;
    use quarry::schema_sql::create_table;
    use serde_json::json;

    static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "docs", metadata = META)]
    struct Doc {
        #[column(primary_key)]
        id: i64,
        body: serde_json::Value,
        extra: Option<serde_json::Value>,
    }

    #[test]
    fn json_is_jsonb_on_postgres() {
        let pg = create_table(Doc::table(), &Postgres).unwrap();
        assert!(pg.contains("\n\tbody JSONB NOT NULL, "), "{pg}");
        assert!(pg.contains("\n\textra JSONB, "), "{pg}");
        let my = create_table(Doc::table(), &Mysql).unwrap();
        assert!(my.contains("\n\tbody JSON NOT NULL, "), "{my}");
    }

    #[test]
    fn element_access_compiles_as_sqlalchemy_does() {
        let stmt = select!(Doc::body.get("tags"), Doc::body.get(0) FROM Doc
            WHERE Doc::body.get_text("kind") == "memo");
        let pg = stmt.compile(&Postgres).unwrap();
        assert_eq!(
            pg.sql(),
            "SELECT docs.body -> $1 AS anon_1, docs.body -> $2::INTEGER AS anon_2 FROM docs \
             WHERE (docs.body ->> $3) = $4"
        );
        assert_eq!(
            format!("{:?}", pg.params()),
            r#"["tags", 0, "kind", "memo"]"#
        );
        let my = stmt.compile(&Mysql).unwrap();
        assert_eq!(
            my.sql(),
            "SELECT JSON_EXTRACT(docs.body, ?) AS anon_1, JSON_EXTRACT(docs.body, ?) AS anon_2 \
             FROM docs WHERE JSON_UNQUOTE(JSON_EXTRACT(docs.body, ?)) = ?"
        );
        assert_eq!(
            format!("{:?}", my.params()),
            r#"["$.\"tags\"", "$[0]", "$.\"kind\"", "memo"]"#
        );
        let lite = stmt.compile(&Sqlite).unwrap();
        assert_eq!(
            lite.sql(),
            "SELECT JSON_QUOTE(JSON_EXTRACT(docs.body, ?)) AS anon_1, \
             JSON_QUOTE(JSON_EXTRACT(docs.body, ?)) AS anon_2 FROM docs \
             WHERE JSON_EXTRACT(docs.body, ?) = ?"
        );
    }

    #[test]
    fn json_round_trips_and_elements_are_read_on_every_backend() {
        for b in backends("json_access") {
            META.create_all(&b.engine).unwrap();
            let mut conn = b.engine.connect().unwrap();
            let memo = json!({"kind": "memo", "tags": ["a", "b"], "n": 3});
            conn.execute(insert!(Doc {
                body: memo.clone(),
                extra: None
            }))
            .unwrap();
            conn.execute(insert!(Doc {
                body: json!({"kind": "note", "tags": []}),
                extra: Some(json!([1, 2]))
            }))
            .unwrap();
            let memos: Vec<Doc> = conn
                .execute(select!(Doc WHERE Doc::body.get_text("kind") == "memo"))
                .unwrap()
                .all()
                .unwrap();
            assert_eq!(memos.len(), 1, "{}", b.name);
            assert_eq!(memos[0].body, memo, "{}", b.name);
            assert_eq!(memos[0].extra, None, "{}", b.name);
            let tags: Vec<Option<serde_json::Value>> = conn
                .execute(select!(Doc::body.get("tags") FROM Doc ORDER BY Doc::id))
                .unwrap()
                .all()
                .unwrap();
            assert_eq!(
                tags,
                [Some(json!(["a", "b"])), Some(json!([]))],
                "{}",
                b.name
            );
            let second: Option<String> = conn
                .execute(select!(Doc::body.get("tags").get_text(1) FROM Doc WHERE Doc::id == 1))
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(second.as_deref(), Some("b"), "{}", b.name);
            if b.is_postgres() {
                // JSONB has `=`: a document equals the one bound (plain JSON had none).
                let found: Vec<i64> = conn
                    .execute(select!(Doc::id FROM Doc WHERE Doc::body == memo))
                    .unwrap()
                    .all()
                    .unwrap();
                assert_eq!(found, [1]);
            }
        }
    }
}

mod arrays {
    use super::support::backends;
    use quarry::dialect::{Mysql, Postgres, Sqlite};
    use quarry::prelude::*;
    use quarry::schema_sql::create_table;

    static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "articles", metadata = META)]
    struct Article {
        #[column(primary_key)]
        id: i64,
        tags: Vec<String>,
        scores: Option<Vec<i64>>,
        weights: Vec<f64>,
        flags: Vec<bool>,
        small: Vec<i32>,
    }

    fn article(id: i64, tags: &[&str], scores: Option<Vec<i64>>) -> Article {
        Article {
            id,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            scores,
            weights: vec![0.5, -1.25],
            flags: vec![true, false],
            small: vec![],
        }
    }

    #[test]
    fn arrays_are_postgres_columns_and_unsupported_elsewhere() {
        let pg = create_table(Article::table(), &Postgres).unwrap();
        assert!(pg.contains("\n\ttags TEXT[] NOT NULL, "), "{pg}");
        assert!(pg.contains("\n\tscores BIGINT[], "), "{pg}");
        assert!(
            pg.contains("\n\tweights DOUBLE PRECISION[] NOT NULL, "),
            "{pg}"
        );
        assert!(pg.contains("\n\tflags BOOLEAN[] NOT NULL, "), "{pg}");
        for err in [
            create_table(Article::table(), &Sqlite).unwrap_err(),
            create_table(Article::table(), &Mysql).unwrap_err(),
        ] {
            assert!(matches!(err, Error::Unsupported { .. }), "{err}");
            assert!(err.to_string().contains("\"tags\""), "{err}");
        }
        let stmt = select!(Article::id FROM Article
            WHERE Article::tags.contains(vec!["db".to_owned()]) && Article::small.any(3));
        assert_eq!(
            stmt.compile(&Postgres).unwrap().sql(),
            "SELECT articles.id FROM articles WHERE articles.tags @> $1 AND $2 = ANY (articles.small)"
        );
        let err = stmt.compile(&Mysql).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    }

    #[test]
    fn arrays_round_trip_and_filter_on_postgres() {
        for b in backends("arrays") {
            if !b.is_postgres() {
                let err = META.create_all(&b.engine).unwrap_err();
                assert!(
                    matches!(err, Error::Unsupported { .. }),
                    "{}: {err}",
                    b.name
                );
                let err = b
                    .engine
                    .execute(text("SELECT :a").bind("a", vec![1_i64, 2]))
                    .unwrap_err();
                assert!(err.to_string().contains("no arrays"), "{}: {err}", b.name);
                continue;
            }
            META.create_all(&b.engine).unwrap();
            let mut conn = b.engine.connect().unwrap();
            let rows = [
                article(1, &["rust", "db"], Some(vec![3, 5])),
                article(2, &["db"], None),
                article(3, &[], Some(vec![])),
            ];
            for row in &rows {
                conn.execute(Article::insert(row)).unwrap();
            }
            let back: Vec<Article> = conn
                .execute(select!(Article ORDER BY Article::id))
                .unwrap()
                .all()
                .unwrap();
            assert_eq!(back, rows);
            let db = vec!["db".to_owned()];
            let tagged: Vec<i64> = conn
                .execute(select!(Article::id FROM Article
                    WHERE Article::tags.contains(db) ORDER BY Article::id))
                .unwrap()
                .all()
                .unwrap();
            assert_eq!(tagged, [1, 2]);
            let rust: Vec<i64> = conn
                .execute(select!(Article::id FROM Article WHERE Article::tags.any("rust")))
                .unwrap()
                .all()
                .unwrap();
            assert_eq!(rust, [1]);
            let scored: Option<Vec<i64>> = conn
                .execute(select!(Article::scores FROM Article WHERE Article::id == 2))
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(scored, None);
            // A dynamic row sees the array as a value.
            let row = conn
                .execute(text("SELECT tags FROM articles WHERE id = 1"))
                .unwrap()
                .one()
                .unwrap();
            assert_eq!(
                row.get::<Vec<String>>("tags").unwrap(),
                ["rust".to_owned(), "db".to_owned()]
            );
        }
    }
}
