//! The full statement language: select lists, joins, aliases, grouping, functions, arithmetic,
//! subqueries, compound selects, RETURNING and upserts, on every dialect, as insta snapshots
//! (SQL and parameters). Each form's SQL was compared with SQLAlchemy 2.1's compiler for the same
//! statement; `tests/sqlalchemy/compare.py` repeats that comparison.

mod common;

use common::check_each_dialect;
use quarry::func::{count, lower};
use quarry::prelude::*;
use quarry::{Compile, Compound, Insert, Select, Update, Upsert, all, excluded, exists, nullable};

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id)]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments", metadata = META)]
pub struct Comment {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Post::id)]
    pub post_id: i64,
    pub text: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "scores", metadata = META)]
pub struct Score {
    #[column(primary_key)]
    pub id: i64,
    pub points: i32,
    pub weight: f64,
}

#[track_caller]
fn check(name: &str, stmt: impl Compile) {
    check_each_dialect(name, |d| match stmt.compile(d) {
        Ok(compiled) => compiled.to_string(),
        Err(e) => format!("error: {e}"),
    });
}

#[test]
fn columns_give_a_tuple_and_order_limit_offset() {
    let stmt: Select<(i64, String)> =
        select!(User::id, User::name FROM User ORDER BY User::id DESC LIMIT 10 OFFSET 20);
    check("columns_order_limit_offset", stmt);
}

#[test]
fn one_column_gives_a_scalar_and_from_is_derived() {
    let stmt: Select<String> = select!(User::name);
    check("one_column", stmt);
}

#[test]
fn left_join_makes_the_right_table_optional() {
    let stmt: Select<(User, Option<Post>)> = select!(User, Post FROM User
        LEFT JOIN Post ON Post::user_id == User::id WHERE User::hair_color == "black");
    check("left_join_tables", stmt);
    let outer: Select<(String, Option<String>, Option<String>)> = select!(User::name, Post::title,
        Post::body FROM User LEFT OUTER JOIN Post ON Post::user_id == User::id);
    check("left_join_columns", outer);
}

#[test]
fn inner_join_and_a_chain_of_joins() {
    let stmt: Select<String> = select!(User::name FROM User JOIN Post ON Post::user_id == User::id);
    check("inner_join", stmt);
    let chain: Select<(String, Option<String>)> = select!(User::name, Comment::text FROM User
        INNER JOIN Post ON Post::user_id == User::id
        LEFT JOIN Comment ON Comment::post_id == Post::id);
    check("join_chain", chain);
}

#[test]
fn duplicate_column_names_get_labels() {
    check(
        "duplicate_names",
        select!(User::id, Post::id, Comment::id, Post::id),
    );
    check(
        "duplicate_names_in_join",
        select!(User, Post FROM User JOIN Post ON Post::user_id == User::id),
    );
}

#[test]
fn aggregates_get_anonymous_labels_and_one_is_a_scalar() {
    let n: Select<i64> = select!(count(User::id) FROM User);
    check("count", n);
    check("count_star", select!(count(*) FROM User));
    let extremes: Select<(Option<i64>, Option<i64>, i64, i64)> =
        select!(max(User::id), min(User::id), count(User::id), count(User::name) FROM User);
    check("max_min_counts", extremes);
}

#[test]
fn common_functions() {
    type Row = (String, String, String, i64, Option<i64>, Option<f64>);
    let stmt: Select<Row> = select!(
        lower(User::name), upper(User::name), coalesce(User::hair_color, "none"),
        length(User::name), sum(User::id), avg(User::id) FROM User);
    check("functions", stmt);
    let nullable_length: Select<Option<i64>> = select!(length(User::hair_color) FROM User);
    check("length_of_nullable", nullable_length);
}

#[test]
fn group_by_and_having() {
    let stmt: Select<(Option<String>, i64)> = select!(User::hair_color, count(User::id) FROM User
        GROUP BY User::hair_color HAVING count(User::id) > 1);
    check("group_by_having", stmt);
    check(
        "group_by_two_having_and",
        select!(User::hair_color, User::name, count(User::id) FROM User
            GROUP BY User::hair_color, User::name
            HAVING count(User::id) > 1 && max(User::id) < 9
            ORDER BY count(User::id) DESC),
    );
}

#[test]
fn distinct() {
    let stmt: Select<Option<String>> = select!(DISTINCT User::hair_color FROM User);
    check("distinct", stmt);
    check(
        "distinct_limit_offset",
        select!(DISTINCT User::hair_color FROM User LIMIT 2 OFFSET 1),
    );
}

#[test]
fn in_subquery_and_not_in() {
    check(
        "in_subquery",
        select!(User WHERE User::id.in_(select!(Post::user_id FROM Post WHERE Post::title == "t"))),
    );
    check(
        "not_in_subquery_and",
        select!(User WHERE User::id.not_in(select!(Post::user_id FROM Post)) && User::id > 1),
    );
    // One table only: nothing to correlate, as in SQLAlchemy.
    check(
        "in_subquery_same_table",
        select!(User WHERE User::id.in_(select!(User::id FROM User WHERE User::name == "x"))),
    );
}

#[test]
fn exists_is_correlated_to_the_enclosing_query() {
    check(
        "exists",
        select!(User WHERE exists(select!(Post WHERE Post::user_id == User::id))),
    );
    check(
        "not_exists_or",
        select!(User::id FROM User
            WHERE !exists(select!(Post WHERE Post::user_id == User::id)) || User::id > 1),
    );
    check(
        "exists_and",
        select!(User::id FROM User
            WHERE exists(select!(Post::id FROM Post WHERE Post::user_id == User::id)) && User::id > 1),
    );
    let flag: Select<(String, bool)> = select!(User::name,
        exists(select!(Post WHERE Post::user_id == User::id)) FROM User);
    check("exists_in_select_list", flag);
}

#[test]
fn scalar_subqueries() {
    // A scalar subquery is NULL when it finds no row: its item is an Option.
    let per_user: Select<(String, Option<i64>)> = select!(User::name,
        select!(count(Post::id) FROM Post WHERE Post::user_id == User::id) FROM User);
    check("scalar_subquery_item", per_user);
    check(
        "scalar_subquery_compared",
        select!(User::name FROM User WHERE User::id == select!(max(Post::user_id) FROM Post)),
    );
    check(
        "outer_and_inner_counts",
        select!(count(User::id), select!(count(Post::id) FROM Post WHERE Post::user_id == User::id)
            FROM User),
    );
}

#[test]
fn unions() {
    let u: Compound<String> = select!(User::name FROM User WHERE User::id == 1)
        .union_all(select!(User::name FROM User WHERE User::id == 2));
    check("union_all", u);
    check(
        "union_order_limit",
        select!(User::name FROM User WHERE User::id == 1)
            .union(select!(User::name FROM User WHERE User::id == 2))
            .order_by(User::name)
            .limit(3),
    );
    check(
        "union_three_offset",
        select!(User::id FROM User)
            .union_all(select!(Post::id FROM Post))
            .union_all(select!(Comment::id FROM Comment))
            .offset(2),
    );
    check(
        "union_member_with_limit",
        select!(User::name FROM User LIMIT 1)
            .union(select!(User::name FROM User WHERE User::id == 2)),
    );
    check(
        "intersect_except",
        select!(User::id FROM User)
            .intersect(select!(Post::user_id FROM Post))
            .except(select!(Comment::post_id FROM Comment)),
    );
}

#[test]
fn union_order_by_a_column_not_selected_is_an_error() {
    let err = select!(User::name FROM User)
        .union(select!(User::name FROM User))
        .order_by(User::id)
        .compile(&quarry::dialect::Sqlite)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("users.id") && err.contains("first SELECT"),
        "{err}"
    );
}

#[test]
fn aliases_join_a_table_to_itself() {
    let boss = User::alias("boss");
    let stmt: Select<(String, String)> = select!(User::name, boss.col(User::name) FROM User
        JOIN boss ON boss.col(User::id) == User::id WHERE boss.col(User::name) != "x");
    check("alias_self_join", stmt);
    let whole: Select<(User, Option<User>)> =
        select!(User, boss FROM User LEFT JOIN boss ON boss.col(User::id) == User::id);
    check("alias_left_join_tables", whole);
}

#[test]
fn arithmetic_follows_sqlalchemy_precedence() {
    check(
        "arithmetic",
        select!(User::id + 1, User::id * 2 - 3, (User::id - 1) - 2, User::id - (2 - User::id),
            User::id + (User::id + 1), User::id / 2, User::id % 3, -(User::id + 1) FROM User),
    );
    check(
        "arithmetic_where",
        select!(User::id FROM User WHERE User::id + 1 > 5 && User::id * 2 == User::id + 1),
    );
    check(
        "float_division",
        select!(Score::weight / 2.0, Score::points / 2 FROM Score),
    );
    check(
        "concatenation",
        select!(User::name + "!", User::name + "a" + User::name FROM User),
    );
    check(
        "value_first",
        select!(10 - User::id, 2.0 * Score::weight FROM User, Score),
    );
}

#[test]
fn builders_say_the_same() {
    let d = &quarry::dialect::Postgres;
    let sql = |c: &dyn Compile| {
        c.compile(d)
            .map_or_else(|e| e.to_string(), |c| c.to_string())
    };
    assert_eq!(
        sql(&quarry::select((User::hair_color, count(User::id)))
            .group_by(User::hair_color)
            .having(count(User::id).gt(1))),
        sql(
            &select!(User::hair_color, count(User::id) FROM User GROUP BY User::hair_color
            HAVING count(User::id) > 1)
        ),
    );
    assert_eq!(
        sql(&quarry::select((all::<User>(), nullable(all::<Post>())))
            .left_join(Post::table(), Post::user_id.eq(User::id))),
        sql(&select!(User, Post FROM User LEFT JOIN Post ON Post::user_id == User::id)),
    );
    assert_eq!(
        sql(&User::select().filter(exists(Post::select().filter(Post::user_id.eq(User::id))))),
        sql(&select!(User WHERE exists(select!(Post WHERE Post::user_id == User::id)))),
    );
    assert_eq!(
        sql(&quarry::select(User::name)
            .distinct()
            .filter((User::id + 1).gt(5))),
        sql(&select!(DISTINCT User::name FROM User WHERE User::id + 1 > 5)),
    );
}

#[test]
fn returning() {
    let id: Insert<i64> = insert!(User {
        name: "john",
        hair_color: None
    })
    .returning(User::id);
    check("insert_returning", id);
    let pair: Update<(i64, String)> =
        update!(User SET name = "ed" WHERE User::id == 5).returning((User::id, User::name));
    check("update_returning", pair);
    check(
        "delete_returning_expression",
        delete!(User WHERE User::id == 5).returning((User::id, lower(User::name))),
    );
    check(
        "insert_returning_table",
        insert!(User {
            name: "x",
            hair_color: None
        })
        .returning(all::<User>()),
    );
}

#[test]
fn returning_another_table_is_an_error() {
    let err = insert!(User {
        name: "x",
        hair_color: None
    })
    .returning(Post::id)
    .compile(&quarry::dialect::Sqlite)
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("\"users\"") && err.contains("\"posts\""),
        "{err}"
    );
}

#[test]
fn upserts() {
    let base = || {
        insert!(User {
            id: 1,
            name: "ed",
            hair_color: None
        })
    };
    let update: Upsert<()> = base()
        .on_conflict(User::id)
        .do_update()
        .set_excluded(User::name)
        .set(User::hair_color, None::<String>);
    check("upsert_do_update", update);
    check(
        "upsert_do_nothing",
        base().on_conflict(User::id).do_nothing(),
    );
    check("upsert_do_nothing_any", base().on_conflict_do_nothing());
    check(
        "upsert_expression_returning",
        base()
            .on_conflict(User::id)
            .do_update()
            .set(User::name, excluded(User::name) + User::name)
            .returning(User::id),
    );
}

#[test]
fn upsert_without_assignments_is_an_error() {
    let err = insert!(User {
        id: 1,
        name: "ed",
        hair_color: None
    })
    .on_conflict(User::id)
    .do_update()
    .compile(&quarry::dialect::Sqlite)
    .unwrap_err()
    .to_string();
    assert!(err.contains("sets no column"), "{err}");
}

#[test]
fn update_set_from_expressions_and_subqueries() {
    check(
        "update_set_expression",
        update!(User SET name = User::name + "x", id = User::id + 1 WHERE User::id == 5),
    );
    check(
        "update_set_subquery",
        update!(User SET name = select!(Post::title FROM Post WHERE Post::user_id == User::id LIMIT 1)),
    );
    check(
        "update_where_in_subquery",
        update!(User SET name = "x" WHERE User::id.in_(select!(Post::user_id FROM Post WHERE Post::title == "t"))),
    );
    check(
        "delete_where_not_exists",
        delete!(User WHERE !exists(select!(Post WHERE Post::user_id == User::id))),
    );
}

#[test]
fn multi_table_update_names_the_other_table_and_sqlite_delete_refuses_it() {
    let sql = User::update()
        .set(User::name, "x")
        .filter(Post::id.eq(1))
        .compile(&quarry::dialect::Sqlite)
        .expect("UPDATE … FROM")
        .sql()
        .to_owned();
    assert_eq!(sql, "UPDATE users SET name=? FROM posts WHERE posts.id = ?");
    let err = User::delete()
        .filter(Post::id.eq(1))
        .compile(&quarry::dialect::Sqlite)
        .unwrap_err()
        .to_string();
    assert!(err.contains("DELETE") && err.contains("subquery"), "{err}");
}

#[test]
fn derived_from_follows_select_list_then_where() {
    check(
        "derived_from",
        quarry::select(User::id).filter(Post::id.eq(1)),
    );
    check(
        "explicit_from_first",
        quarry::select(Post::title)
            .from(User::table())
            .filter(Comment::id.eq(1)),
    );
}

#[test]
fn predicates_on_expressions() {
    check(
        "between_arithmetic",
        select!(User WHERE (User::id + 1).between(1, 2)),
    );
    check(
        "like_lower",
        select!(User WHERE lower(User::name).like("a%")),
    );
    check(
        "negated_arithmetic",
        select!(User WHERE !(User::id + 1 > 2)),
    );
}

#[test]
fn correlation_looks_one_level_up_as_in_sqlalchemy() {
    // The innermost subquery correlates to `posts` (its enclosing query) but not to `users`
    // (two levels out), which SQLAlchemy therefore lists in its FROM.
    check(
        "nested_exists",
        select!(User::name FROM User WHERE exists(select!(Post::id FROM Post
            WHERE Post::user_id == User::id
            && exists(select!(Comment::id FROM Comment
                WHERE Comment::post_id == Post::id && Comment::text == User::name))))),
    );
}
