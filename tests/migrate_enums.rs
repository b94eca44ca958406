//! Migrations of PostgreSQL enum types (issue 23: the diff's "enum type" steps) on every
//! backend: a native type is created before the table that uses it, a label added to the Rust
//! enum becomes `ALTER TYPE … ADD VALUE` in its place, a type no table uses any more is
//! dropped after the tables, and a label removed is refused as a destructive step. Elsewhere
//! an enum is text, so only its column's length changes.

mod support;

use quarry::migrate::Op;
use quarry::prelude::*;
use support::backends;

pub static E1: MetaData = MetaData::new();
pub static E2: MetaData = MetaData::new();
pub static E3: MetaData = MetaData::new();

mod e1 {
    use super::E1;
    use quarry::prelude::*;

    #[derive(SqlEnum, Debug, Clone, Copy, PartialEq)]
    #[sql_enum(rename_all = "lowercase", postgres_type = "mge_mood")]
    pub enum Mood {
        Sad,
        Fine,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mge_feelings", metadata = E1)]
    pub struct Feeling {
        #[column(primary_key)]
        pub id: i64,
        pub mood: Mood,
    }
}

mod e2 {
    use super::E2;
    use quarry::prelude::*;

    /// `happy` added at the end, `meh` between the two old labels.
    #[derive(SqlEnum, Debug, Clone, Copy, PartialEq)]
    #[sql_enum(rename_all = "lowercase", postgres_type = "mge_mood")]
    pub enum Mood {
        Sad,
        Meh,
        Fine,
        Happy,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mge_feelings", metadata = E2)]
    pub struct Feeling {
        #[column(primary_key)]
        pub id: i64,
        pub mood: Mood,
    }
}

mod e3 {
    use super::E3;
    use quarry::prelude::*;

    /// The enum column is gone: the type is no longer used.
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "mge_feelings", metadata = E3)]
    pub struct Feeling {
        #[column(primary_key)]
        pub id: i64,
    }
}

fn apply(engine: &Engine, plan: &quarry::migrate::Plan) {
    let mut conn = engine.connect().expect("connect");
    for sql in plan.sql(engine.dialect()).expect("plan sql") {
        conn.execute(text(sql.clone()))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn enum_types_are_created_extended_and_dropped_with_the_tables_that_use_them() {
    for b in backends("migrate_enums") {
        let engine = &b.engine;
        // From nothing: the type, then the table.
        let plan = quarry::migrate::diff(&E1, engine).expect("diff e1");
        let sql = plan.sql(engine.dialect()).expect("sql");
        if b.is_postgres() {
            assert!(
                matches!(plan.ops().first(), Some(Op::CreateEnum { name, .. }) if name == "mge_mood"),
                "{plan}"
            );
            assert_eq!(sql[0], "CREATE TYPE mge_mood AS ENUM ('sad', 'fine')");
        } else {
            assert!(
                !plan
                    .ops()
                    .iter()
                    .any(|op| matches!(op, Op::CreateEnum { .. })),
                "{}: {plan}",
                b.name
            );
        }
        apply(engine, &plan);
        engine
            .execute(insert!(e1::Feeling {
                id: 1,
                mood: e1::Mood::Fine
            }))
            .expect("insert v1");
        let again = quarry::migrate::diff(&E1, engine).expect("diff in sync");
        assert!(again.is_empty(), "{}: in sync, yet {again}", b.name);

        // Two labels added: in their places.
        let plan = quarry::migrate::diff(&E2, engine).expect("diff e2");
        let sql = plan.sql(engine.dialect()).expect("sql");
        if b.is_postgres() {
            assert_eq!(
                sql,
                [
                    "ALTER TYPE mge_mood ADD VALUE 'meh' AFTER 'sad'",
                    "ALTER TYPE mge_mood ADD VALUE 'happy' AFTER 'fine'",
                ],
                "{plan}"
            );
        }
        apply(engine, &plan);
        engine
            .execute(insert!(e2::Feeling {
                id: 2,
                mood: e2::Mood::Meh
            }))
            .expect("insert v2");
        let moods: Vec<e2::Mood> = engine
            .execute(select!(e2::Feeling::mood FROM e2::Feeling ORDER BY e2::Feeling::mood))
            .and_then(|r| r.all())
            .expect("read moods");
        if b.is_postgres() {
            // Sorted by the type's label order, not alphabetically.
            assert_eq!(moods, [e2::Mood::Meh, e2::Mood::Fine]);
        }
        assert!(
            quarry::migrate::diff(&E2, engine)
                .expect("diff e2 again")
                .is_empty(),
            "{}",
            b.name
        );

        // Back to two labels: a label removed is destructive (rows may hold it).
        let plan = quarry::migrate::diff(&E1, engine).expect("diff back");
        if b.is_postgres() {
            let err = plan.sql(engine.dialect()).expect_err("removing labels");
            assert!(
                err.to_string().contains("mge_mood") && err.to_string().contains("meh"),
                "{err}"
            );
        }

        // Allowed, with no row holding a removed label: the type is re-created and the column
        // converted, its rows kept.
        engine
            .execute(delete!(e2::Feeling WHERE e2::Feeling::id == 2))
            .expect("delete meh");
        let plan = plan.allow_destructive(true);
        if b.is_postgres() {
            let sql = plan.sql(engine.dialect()).expect("re-create");
            assert_eq!(
                sql,
                [
                    "ALTER TYPE mge_mood RENAME TO _quarry_tmp_mge_mood",
                    "CREATE TYPE mge_mood AS ENUM ('sad', 'fine')",
                    "ALTER TABLE mge_feelings ALTER COLUMN mood TYPE mge_mood USING mood::text::mge_mood",
                    "DROP TYPE _quarry_tmp_mge_mood",
                ]
            );
        }
        apply(engine, &plan);
        let back: Vec<e1::Feeling> = engine
            .execute(select!(e1::Feeling))
            .and_then(|r| r.all())
            .expect("rows kept");
        assert_eq!(
            back,
            [e1::Feeling {
                id: 1,
                mood: e1::Mood::Fine
            }],
            "{}",
            b.name
        );
        assert!(
            quarry::migrate::diff(&E1, engine)
                .expect("diff e1 again")
                .is_empty(),
            "{}",
            b.name
        );

        // The column dropped: the type goes after it.
        let plan = quarry::migrate::diff(&E3, engine)
            .expect("diff e3")
            .allow_destructive(true);
        let sql = plan.sql(engine.dialect()).expect("sql e3");
        if b.is_postgres() {
            assert_eq!(
                sql.last().map(String::as_str),
                Some("DROP TYPE mge_mood"),
                "{sql:?}"
            );
        }
        apply(engine, &plan);
        assert!(
            quarry::migrate::diff(&E3, engine)
                .expect("diff e3 again")
                .is_empty(),
            "{}",
            b.name
        );
    }
}
