//! Tables defined at run time (`TableDef::build` + `MetaData::define`) and derived tables
//! (`select(…).subquery(name)`), live on every backend: created by `create_all` and by the
//! table's own `create`, written with `insert().value_named`, updated and deleted by name,
//! selected as `Row`s, and joined to a derived table — results checked.

mod common;
mod support;

use quarry::Compile;
use quarry::func::{count, sum};
use quarry::prelude::*;
use quarry::{ColumnDef, DefinedTable, Row, SqlType, TableDef};
use support::backends;

#[track_caller]
fn check(name: &str, stmt: impl Compile) {
    common::check_each_dialect(name, |d| match stmt.compile(d) {
        Ok(compiled) => compiled.to_string(),
        Err(e) => format!("error: {e}"),
    });
}

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "rt_users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 40)]
    pub name: String,
}

/// `rt_events`: defined at run time, referencing the declared `rt_users`.
fn events() -> DefinedTable {
    DefinedTable::define(
        &META,
        TableDef::build(
            "rt_events",
            vec![
                ColumnDef::named("id", SqlType::BigInt, false)
                    .primary_key()
                    .autoincrement(),
                ColumnDef::named("user_id", SqlType::BigInt, false).references(User::id.as_ref()),
                ColumnDef::named("kind", SqlType::Text, false),
                ColumnDef::named("points", SqlType::Integer, true),
            ],
            &META,
        ),
    )
    .expect("define rt_events")
}

#[test]
fn a_table_defined_at_run_time_is_created_written_read_and_joined_on_every_backend() {
    let events = events();
    for b in backends("defined_table_live") {
        let engine = &b.engine;
        // create_all creates the declared table, then the defined one that references it.
        META.create_all(engine).expect("create_all");
        assert!(events.exists(engine).expect("exists"), "{}", b.name);

        let mut conn = engine.connect().expect("connect");
        for name in ["ed", "wendy"] {
            conn.execute(insert!(User { name: name }))
                .expect("insert user");
        }
        for (user, kind, points) in [
            (1_i64, "login", Some(3_i32)),
            (1, "post", Some(10)),
            (2, "login", None),
            (2, "post", Some(5)),
            (2, "post", Some(7)),
        ] {
            let stmt = events
                .insert()
                .value_named("user_id", user)
                .value_named("kind", kind)
                .value_named("points", points);
            assert_eq!(conn.execute(stmt).expect("insert").rowcount(), 1);
        }

        // SELECT as Rows, filtered and ordered by typed by-name columns.
        let kind = events.column::<String>("kind").unwrap();
        let id = events.column::<i64>("id").unwrap();
        let rows: Vec<Row> = conn
            .execute(events.select().filter(kind.clone().eq("post")).order_by(id))
            .expect("select")
            .all()
            .expect("rows");
        let points: Vec<Option<i32>> = rows.iter().map(|r| r.get("points").unwrap()).collect();
        assert_eq!(points, [Some(10), Some(5), Some(7)], "{}", b.name);
        assert_eq!(
            rows[0].keys().collect::<Vec<_>>(),
            ["id", "user_id", "kind", "points"]
        );

        // UPDATE and DELETE by name.
        let updated = conn
            .execute(
                events
                    .update()
                    .set_named("points", 0_i32)
                    .filter(events.column::<Option<i32>>("points").unwrap().is_null()),
            )
            .expect("update");
        assert_eq!(updated.rowcount(), 1, "{}", b.name);

        // A derived table over the defined table, joined to the declared one: points per user.
        let user_id = events.column::<i64>("user_id").unwrap();
        let totals = quarry::select((
            user_id.clone(),
            sum(events.column::<Option<i32>>("points").unwrap()).label("total"),
            count(events.column::<i64>("id").unwrap()).label("n"),
        ))
        .group_by(user_id)
        .subquery("totals");
        let report: Vec<(String, Option<i64>, i64)> = conn
            .execute(
                quarry::select((
                    User::name,
                    totals.column::<Option<i64>>("total").unwrap(),
                    totals.column::<i64>("n").unwrap(),
                ))
                .from(User::table())
                .join(
                    &totals,
                    totals.column::<i64>("user_id").unwrap().eq(User::id),
                )
                .order_by(User::name),
            )
            .expect("join to derived table")
            .all()
            .expect("report rows");
        assert_eq!(
            report,
            [
                ("ed".to_owned(), Some(13), 2),
                ("wendy".to_owned(), Some(12), 3)
            ],
            "{}",
            b.name
        );

        // The same derived table in select!, next to a declared table.
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User JOIN totals ON totals.column::<i64>("user_id").unwrap() == User::id WHERE User::id > 1))
            .expect("select! with a derived table")
            .all()
            .expect("names");
        assert_eq!(names, ["wendy"], "{}", b.name);

        let deleted = conn
            .execute(events.delete().filter(kind.eq("login")))
            .expect("delete");
        assert_eq!(deleted.rowcount(), 2, "{}", b.name);
        drop(conn);

        // drop_all drops the defined table before the declared one it references.
        META.drop_all(engine).expect("drop_all");
        assert!(!events.exists(engine).expect("exists"), "{}", b.name);
        User::table().create(engine).expect("create the parent");
        events
            .create(engine)
            .expect("create the defined table alone");
        assert!(events.exists(engine).expect("exists"), "{}", b.name);
        events.drop(engine).expect("drop the defined table alone");
        assert!(!events.exists(engine).expect("exists"), "{}", b.name);
        User::table().drop(engine).expect("drop the parent");
    }
}

#[test]
fn a_defined_table_has_no_implicit_bind_and_says_so() {
    static LOCAL: MetaData = MetaData::new();
    let t = DefinedTable::define(
        &LOCAL,
        TableDef::build(
            "rt_lonely",
            vec![ColumnDef::named("id", SqlType::BigInt, false).primary_key()],
            &LOCAL,
        ),
    )
    .unwrap();
    let err = t.select().execute().unwrap_err().to_string();
    assert!(
        err.contains("names no declared table") && err.contains("defined at run time"),
        "{err}"
    );
    // A second definition of the same name is refused, naming it.
    let again = LOCAL.define(TableDef::build(
        "rt_lonely",
        vec![ColumnDef::named("id", SqlType::BigInt, false)],
        &LOCAL,
    ));
    assert!(again.unwrap_err().to_string().contains("rt_lonely"));
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "rt_posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id)]
    pub user_id: i64,
    pub title: String,
}

#[test]
fn derived_tables_render_as_sqlalchemy_subqueries_on_every_dialect() {
    // SQLAlchemy: select(users.c.id, users.c.name).where(users.c.name.like("e%"))
    //             .subquery("named"), then select(named.c.name).where(named.c.id > 5)
    let named =
        select!(User::id, User::name FROM User WHERE User::name.like("e%")).subquery("named");
    check(
        "derived_table_in_from",
        select!(named.col(User::name) FROM named WHERE named.col(User::id) > 5),
    );

    // A labelled aggregate in a derived table, joined to a declared table (builder form).
    let counts = quarry::select((Post::user_id, count(Post::id).label("n")))
        .group_by(Post::user_id)
        .subquery("counts");
    check(
        "derived_table_joined_builder",
        quarry::select((User::name, counts.column::<i64>("n").unwrap()))
            .from(User::table())
            .join(&counts, counts.col(Post::user_id).eq(User::id))
            .filter(counts.column::<i64>("n").unwrap().gt(1_i64)),
    );

    // The same in select!, LEFT JOIN: the derived table's columns become optional.
    let joined: quarry::Select<(String, Option<i64>)> = select!(User::name, counts.col(Post::user_id)
        FROM User LEFT JOIN counts ON counts.col(Post::user_id) == User::id);
    check("derived_table_left_joined_macro", joined);

    // A column the subquery does not select is an error naming it, not wrong SQL.
    check(
        "derived_table_missing_column",
        select!(named.col(User::id) FROM named WHERE named.col(User::id) == 1)
            .filter(counts.col(Post::title).eq("x")),
    );
}

#[test]
fn a_defined_table_renders_like_a_declared_one() {
    static LOCAL: MetaData = MetaData::new();
    let tags = DefinedTable::define(
        &LOCAL,
        TableDef::build(
            "rt_tags",
            vec![
                ColumnDef::named("id", SqlType::BigInt, false)
                    .primary_key()
                    .autoincrement(),
                ColumnDef::named("label", SqlType::Text, false),
            ],
            &LOCAL,
        ),
    )
    .unwrap();
    let label = tags.column::<String>("label").unwrap();
    check(
        "defined_table_select",
        tags.select()
            .filter(label.clone().eq("rust"))
            .order_by(label.clone()),
    );
    check(
        "defined_table_insert",
        tags.insert().value_named("label", "rust"),
    );
    check(
        "defined_table_update",
        tags.update()
            .set_named("label", "Rust")
            .filter(label.clone().eq("rust")),
    );
    check(
        "defined_table_delete",
        tags.delete().filter(label.eq("Rust")),
    );
    // A column asked for by name that the table lacks is an error naming table and column.
    let err = tags.column::<String>("lable").unwrap_err().to_string();
    assert!(err.contains("rt_tags") && err.contains("lable"), "{err}");
}
