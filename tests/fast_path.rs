//! The zero-render path of static `select!` call sites (issue 21, `quarry_core::sql::fast`):
//! once a call site has learned its SQL per dialect, later statements take the text and their
//! values directly. Each test compares that with the builder's own rendering of the same
//! statement, for every dialect, over values that change from call to call — including the
//! first calls, where the values coincide and nothing can be learned yet.

use quarry::dialect::{ALL, Dialect};
use quarry::func::{count, lower};
use quarry::prelude::*;
use quarry::{Compile, Select};

static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "fast_users", metadata = META)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "fast_posts", metadata = META)]
struct Post {
    #[column(primary_key)]
    id: i64,
    #[column(references = User::id)]
    user_id: i64,
    title: String,
}

/// `fast` (a macro call site, maybe on the zero-render path) renders as `reference` (the
/// builder, no cache) on every dialect.
#[track_caller]
fn same<R>(fast: &Select<R>, reference: &Select<R>) {
    for dialect in ALL {
        let d: &dyn Dialect = *dialect;
        let got = fast.compile(d).expect("fast compiles");
        let want = reference.compile(d).expect("reference compiles");
        assert_eq!(got, want, "on {}", d.name());
    }
    assert_eq!(format!("{fast:?}"), format!("{reference:?}"));
}

fn pk_lookup(id: i64) -> Select<User> {
    select!(User WHERE User::id == id)
}

/// The same statement at call sites of their own: tests run in parallel, and the first test
/// above needs its site unlearned when it starts.
fn pk_lookup_run(id: i64) -> Select<User> {
    select!(User WHERE User::id == id)
}

fn pk_lookup_borrowed(id: i64) -> Select<User> {
    select!(User WHERE User::id == id)
}

#[test]
fn a_static_call_site_is_learned_then_renders_nothing() {
    let first = pk_lookup(1);
    assert!(
        !first.is_zero_render(),
        "nothing learned before the first compile"
    );
    same(&first, &User::select().filter(User::id.eq(1)));
    for id in 2..20 {
        let stmt = pk_lookup(id);
        assert!(
            stmt.is_zero_render(),
            "call {id} takes the zero-render path"
        );
        same(&stmt, &User::select().filter(User::id.eq(id)));
    }
}

fn many(a: i64, b: &str, lo: i64, hi: i64, limit: u64, offset: u64) -> Select<(i64, String)> {
    select!(User::id, lower(User::name) FROM User JOIN Post ON Post::user_id == User::id
        WHERE (User::id > a || User::name == b) && Post::title != "draft"
            && Post::id.between(lo, hi) && User::name.like("a%") && User::hair_color == None
        ORDER BY User::id DESC LIMIT limit OFFSET offset)
}

fn many_reference(
    a: i64,
    b: &str,
    lo: i64,
    hi: i64,
    limit: u64,
    offset: u64,
) -> Select<(i64, String)> {
    quarry::select((User::id, lower(User::name)))
        .join(Post::table(), Post::user_id.eq(User::id))
        .filter(
            User::id
                .gt(a)
                .or(User::name.eq(b))
                .and(Post::title.ne("draft"))
                .and(Post::id.between(lo, hi))
                .and(User::name.like("a%"))
                .and(User::hair_color.is_null()),
        )
        .order_by(User::id.desc())
        .limit(limit)
        .offset(offset)
}

#[test]
fn slots_constants_limit_and_offset_land_in_each_dialects_order() {
    // The first calls' values coincide (with each other and with the constant): nothing can
    // be learned from them, and they still render right.
    let calls: [(i64, &str, i64, i64, u64, u64); 5] = [
        (1, "a%", 1, 1, 1, 1),
        (7, "draft", 7, 7, 7, 7),
        (3, "ed", 10, 20, 5, 40),
        (4, "wendy", 11, 21, 6, 41),
        (5, "jack", 12, 22, 7, 42),
    ];
    for (a, b, lo, hi, limit, offset) in calls {
        let stmt = many(a, b, lo, hi, limit, offset);
        same(&stmt, &many_reference(a, b, lo, hi, limit, offset));
    }
    assert!(many(9, "x", 1, 2, 3, 4).is_zero_render());
}

fn by_color(color: Option<&str>) -> Select<User> {
    select!(User WHERE User::hair_color == color)
}

#[test]
fn an_option_value_keeps_the_call_site_dynamic() {
    for color in [Some("black"), None, Some("red"), None] {
        let stmt = by_color(color);
        assert!(!stmt.is_zero_render());
        let reference = match color {
            Some(c) => User::select().filter(User::hair_color.eq(c)),
            None => User::select().filter(User::hair_color.is_null()),
        };
        same(&stmt, &reference);
    }
}

fn owned(name: String, id: &i64) -> Select<i64> {
    select!(count(User::id) FROM User WHERE User::name == name && User::id != *id)
}

#[test]
fn owned_and_borrowed_values_are_taken_as_the_model_takes_them() {
    for i in 0..5i64 {
        let stmt = owned(format!("user {i}"), &(i + 100));
        same(
            &stmt,
            &quarry::select(count(User::id))
                .from(quarry::all::<User>())
                .filter(User::name.eq(format!("user {i}")).and(User::id.ne(i + 100))),
        );
    }
}

fn editable(id: i64) -> Select<User> {
    select!(User WHERE User::id == id)
}

#[test]
fn a_learned_statement_edited_or_nested_builds_its_model() {
    for id in 0..3 {
        let _ = editable(id).compile(&quarry::dialect::Sqlite);
    }
    let stmt = editable(42);
    assert!(stmt.is_zero_render());
    // A builder call changes the statement: it renders in full, with its value.
    same(
        &stmt.clone().limit(3),
        &User::select().filter(User::id.eq(42)).limit(3),
    );
    assert_eq!(
        stmt.as_stmt(),
        User::select().filter(User::id.eq(42)).as_stmt()
    );
    // As a subquery of another statement.
    let outer = select!(Post WHERE exists(editable(43)));
    let reference = select!(Post WHERE exists(User::select().filter(User::id.eq(43))));
    same(&outer, &reference);
}

/// One call site for every table type it is instantiated with.
fn count_of<T: quarry::Table>(n: u64) -> Select<i64> {
    select!(count() FROM T LIMIT n)
}

#[test]
fn a_call_site_in_a_generic_function_learns_for_one_table_type_only() {
    for n in 0..4 {
        for (got, table) in [
            (count_of::<User>(n), "fast_users"),
            (count_of::<Post>(n), "fast_posts"),
        ] {
            let sql = got.compile(&quarry::dialect::Sqlite).expect("compiles");
            assert!(sql.sql().contains(table), "{}", sql.sql());
            // SQLite's lone LIMIT is followed by `OFFSET ?` bound to 0, as SQLAlchemy's (a
            // constant of the dialect, told apart from the slot once their values differ).
            assert_eq!(
                sql.params(),
                [quarry::Value::I64(n.cast_signed()), quarry::Value::I64(0)]
            );
            assert!(sql.sql().ends_with("LIMIT ? OFFSET ?"), "{}", sql.sql());
        }
    }
}

#[test]
fn the_zero_render_path_runs_on_sqlite() {
    let engine = create_engine("sqlite://").expect("engine");
    META.create_all(&engine).expect("tables");
    let mut conn = engine.connect().expect("connection");
    for i in 1..=5 {
        conn.execute(insert!(User {
            name: format!("user {i}"),
            hair_color: None
        }))
        .expect("insert");
    }
    for id in 1..=5 {
        let user = conn
            .execute(pk_lookup_run(id))
            .and_then(Rows::first)
            .expect("runs");
        assert_eq!(user.map(|u| u.name), Some(format!("user {id}")));
    }
    assert_eq!(
        conn.execute(pk_lookup_run(99))
            .and_then(Rows::first)
            .expect("runs"),
        None
    );
}

fn by_name_and_color(name: &str) -> Select<User> {
    select!(User WHERE User::name == name && User::hair_color == "black")
}

#[test]
fn a_learned_call_site_runs_its_values_borrowed_only_when_they_are_its_parameters_in_order() {
    use quarry::Statement as _;
    let engine = create_engine("sqlite://").expect("engine");
    META.create_all(&engine).expect("tables");
    let mut conn = engine.connect().expect("connection");
    for (name, color) in [("ed", "black"), ("wendy", "red"), ("jack", "black")] {
        conn.execute(insert!(User {
            name: name,
            hair_color: Some(color)
        }))
        .expect("insert");
    }
    let sqlite: &dyn Dialect = &quarry::dialect::Sqlite;
    for round in 0..3 {
        // The values are the parameters in order: run as they stand, nothing compiled.
        let id = round + 1;
        let stmt = pk_lookup_borrowed(id);
        if round > 0 {
            let run = stmt.learned(sqlite).expect("learned, in order");
            assert_eq!(run.params, [quarry::Value::I64(id)]);
            assert_eq!(run.sql, stmt.compile(sqlite).expect("compiles").sql());
        }
        let user = conn.execute(stmt).and_then(Rows::first).expect("runs");
        assert_eq!(user.map(|u| u.id), Some(id));
        // A constant among the parameters: compiled (zero-render), never borrowed.
        for (name, found) in [("ed", true), ("wendy", false), ("jack", true)] {
            let stmt = by_name_and_color(name);
            assert!(stmt.learned(sqlite).is_none());
            let users: Vec<User> = conn.execute(stmt).and_then(Rows::all).expect("runs");
            assert_eq!(users.len(), usize::from(found), "{name}");
        }
    }
    assert!(by_name_and_color("x").is_zero_render());
}
