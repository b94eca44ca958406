//! Snapshots of the SQL people reach for `text()` to write (issue 20): CTEs (recursive too),
//! window functions, row locks, CASE / CAST, explicit ASC and NULLS FIRST/LAST — each on every
//! dialect, compared with SQLAlchemy 2.x by `tests/sqlalchemy/compare.py`.

mod common;

use common::check_each_dialect;
use quarry::func::{FrameBound, lag, ntile, order_by, rank, row_number, sum, window};
use quarry::prelude::*;
use quarry::{Compile, Expr, dialect};

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>,
    pub boss_id: Option<i64>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id)]
    pub user_id: i64,
    pub title: String,
    pub score: Option<f64>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "archive", metadata = META)]
pub struct Archive {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments", metadata = META)]
pub struct Comment {
    #[column(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub text: String,
}

#[track_caller]
fn check(name: &str, stmt: impl Compile) {
    check_each_dialect(name, |d| match stmt.compile(d) {
        Ok(compiled) => compiled.to_string(),
        Err(e) => format!("error: {e}"),
    });
}

#[test]
fn a_cte_is_written_once_in_with_and_named_in_from_and_join() {
    let recent =
        select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("recent");
    let n: Expr<i64> = recent.column("count_1").expect("count_1");
    check(
        "cte_join",
        select!(User::name, n FROM User JOIN recent ON recent.col(Post::user_id) == User::id),
    );
    let n: Expr<i64> = recent.column("count_1").expect("count_1");
    check(
        "cte_where",
        select!(recent.col(Post::user_id), n FROM recent WHERE recent.col(Post::user_id) > 1),
    );
    let built = quarry::select((User::name, recent.column::<i64>("count_1").expect("n")))
        .from(User::table())
        .join(&recent, recent.col(Post::user_id).eq(User::id));
    let written = select!(User::name, recent.column::<i64>("count_1").expect("n") FROM User JOIN recent ON recent.col(Post::user_id) == User::id);
    assert_eq!(
        built.compile(&dialect::Postgres).expect("built"),
        written.compile(&dialect::Postgres).expect("written")
    );
}

#[test]
fn ctes_naming_ctes_are_listed_after_them() {
    let recent =
        select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("recent");
    let n: Expr<i64> = recent.column("count_1").expect("count_1");
    let busy = select!(recent.col(Post::user_id) FROM recent WHERE n.gt(1)).cte("busy");
    check(
        "cte_two",
        select!(User::name FROM User WHERE User::id.in_(select!(busy.col(Post::user_id) FROM busy))),
    );
}

#[test]
fn a_recursive_cte_lists_its_columns() {
    let tree =
        select!(User::id, User::name FROM User WHERE User::boss_id == None).cte_recursive("tree");
    let tree = tree.union_all(select!(User::id, User::name FROM User
        JOIN tree ON User::boss_id == tree.col(User::id)));
    check("cte_recursive", select!(tree.col(User::name) FROM tree));
}

#[test]
fn ctes_attach_to_update_and_delete() {
    let recent =
        select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("recent");
    check(
        "cte_update",
        update!(User SET name = "x" WHERE User::id.in_(select!(recent.col(Post::user_id) FROM recent))),
    );
    check(
        "cte_delete",
        delete!(User WHERE User::id.in_(select!(recent.col(Post::user_id) FROM recent))),
    );
}

#[test]
fn window_functions_over_partitions_orders_and_frames() {
    check(
        "window_row_number",
        select!(User::name, row_number().over(partition_by(User::hair_color).order_by(User::id)) FROM User),
    );
    let built = quarry::select((
        rank().over(order_by(User::id.desc())),
        sum(User::id).over(
            order_by(User::id).rows_between(FrameBound::UnboundedPreceding, FrameBound::CurrentRow),
        ),
        lag(User::name, 1).over(order_by(User::id)),
        ntile(2).over(window()),
    ));
    check("window_frames", built);
    check(
        "window_range",
        select!(sum(User::id).over(window().range_between(FrameBound::Preceding(1), FrameBound::Following(1))) FROM User),
    );
    check(
        "window_more",
        select!(dense_rank().over(order_by(User::id)), percent_rank().over(order_by(User::id)),
            lead(User::name, 1).over(order_by(User::id)), first_value(User::name).over(order_by(User::id)),
            last_value(User::name).over(order_by(User::id)) FROM User),
    );
    check(
        "window_label",
        quarry::select(row_number().over(order_by(User::id)).label("rn")),
    );
}

#[test]
fn a_window_function_in_where_is_an_error() {
    check(
        "window_in_where",
        quarry::select(User::name).filter(row_number().over(window()).gt(1)),
    );
}

#[test]
fn an_aggregate_filter() {
    check(
        "aggregate_filter",
        select!(count(User::id).filter(User::name == "a") FROM User),
    );
}

#[test]
fn row_locks_per_dialect() {
    check("lock_for_update", select!(User FOR UPDATE));
    check("lock_of_nowait", select!(User FOR UPDATE OF User NOWAIT));
    check(
        "lock_share_skip_locked",
        select!(User FOR SHARE SKIP LOCKED),
    );
    check(
        "lock_limit_skip_locked",
        select!(User WHERE User::id == 1 LIMIT 1 FOR UPDATE SKIP LOCKED),
    );
    let built = User::select().for_update().skip_locked();
    assert_eq!(
        built.compile(&dialect::Postgres).expect("built"),
        select!(User FOR UPDATE SKIP LOCKED)
            .compile(&dialect::Postgres)
            .expect("written")
    );
    check("lock_without_mode", User::select().skip_locked());
}

#[test]
fn case_and_cast() {
    check(
        "case_else",
        select!(case_when(User::id > 5, "big").else_("small") FROM User),
    );
    check(
        "case_compared",
        select!(User::name WHERE case_when(User::id > 5, 1_i64).when(User::id > 2, 2) == 1),
    );
    check(
        "cast",
        select!(cast::<i64>(User::name), cast::<String>(User::id), cast::<f64>(User::id),
            cast::<i32>(User::name) FROM User),
    );
}

#[test]
fn explicit_asc_and_nulls_ordering() {
    check(
        "order_asc_nulls",
        quarry::select(User::id)
            .order_by(User::name.asc())
            .order_by(User::id.desc().nulls_last()),
    );
    check(
        "order_asc",
        select!(User::id FROM User ORDER BY User::name ASC, User::id DESC),
    );
}

#[test]
fn a_chain_changing_operator_groups_what_came_before() {
    let name = |id: i64| select!(User::name FROM User WHERE User::id == id);
    check(
        "compound_grouped",
        name(1).union(name(2)).intersect(name(3)),
    );
    check(
        "compound_grouped_twice",
        name(1)
            .intersect(name(2))
            .union(name(3))
            .union_all(name(4))
            .except(name(5)),
    );
}

#[test]
fn distinct_from_functions_and_distinct_on() {
    check(
        "distinct_from",
        select!(User::id FROM User WHERE User::hair_color.is_distinct_from("x")
            || User::hair_color.is_not_distinct_from(None::<String>)),
    );
    check(
        "scalar_functions",
        select!(now::<String>(), current_timestamp::<String>(), substr(User::name, 1, 2),
            replace(User::name, "a", "b"), trim(User::name), abs(User::id), round(Post::score),
            call::<String>("md5", (User::name,)) FROM User, Post),
    );
    check(
        "distinct_on",
        User::select()
            .distinct_on(User::hair_color)
            .order_by(User::hair_color)
            .order_by(User::id),
    );
}

#[test]
fn insert_from_a_select() {
    let built = quarry::Insert::from_select::<Archive, _>(
        (Archive::id, Archive::name),
        quarry::select((User::id, User::name)).filter(User::id.gt(1)),
    );
    let written =
        insert!(Archive (id, name) FROM select!(User::id, User::name FROM User WHERE User::id > 1));
    assert_eq!(
        built.compile(&dialect::Mysql).expect("built"),
        written.compile(&dialect::Mysql).expect("written")
    );
    check("insert_from_select", written);
}

#[test]
fn multi_table_update_and_delete() {
    check(
        "update_from",
        update!(User SET name = Post::title FROM Post WHERE User::id == Post::user_id && Post::id == 1),
    );
    check(
        "delete_using",
        delete!(User USING Post WHERE User::id == Post::user_id && Post::title == "x"),
    );
}

#[test]
fn text_searches() {
    check(
        "text_searches",
        select!(User::id FROM User WHERE User::name.contains("a") && User::name.startswith("b")
            && User::name.endswith("c") && User::name.ilike("d%")),
    );
}

#[test]
fn full_outer_join() {
    let written = select!(User::name, Post::title FROM User FULL OUTER JOIN Post ON Post::user_id == User::id);
    let built = quarry::select((quarry::nullable(User::name), quarry::nullable(Post::title)))
        .from(User::table())
        .full_join(Post::table(), Post::user_id.eq(User::id));
    assert_eq!(
        built.compile(&dialect::Postgres).expect("built"),
        written.compile(&dialect::Postgres).expect("written")
    );
    check("full_outer_join", written);
}

#[test]
fn lateral_join() {
    let last_post = quarry::select(Post::title)
        .filter(Post::user_id.eq(User::id))
        .order_by(Post::id.desc())
        .limit(1)
        .subquery("last_post")
        .lateral();
    check(
        "lateral",
        select!(User::name, last_post.col(Post::title) FROM User JOIN last_post ON true_()),
    );
    check(
        "lateral_left",
        select!(User::name, last_post.col(Post::title) FROM User LEFT JOIN last_post ON true_()),
    );
}

#[test]
fn nulls_ordering_in_select_macro() {
    let written = select!(User::id FROM User ORDER BY User::name ASC, User::id DESC NULLS LAST);
    let built = quarry::select(User::id)
        .order_by(User::name.asc())
        .order_by(User::id.desc().nulls_last());
    assert_eq!(
        built.compile(&dialect::Sqlite).expect("built"),
        written.compile(&dialect::Sqlite).expect("written")
    );
    check(
        "order_nulls_first_macro",
        select!(User::id FROM User ORDER BY User::hair_color NULLS FIRST),
    );
}

#[test]
fn extract_a_part_of_a_date() {
    use quarry::func::ExtractField;
    check(
        "extract",
        select!(
            extract(ExtractField::Year, now::<String>()),
            extract(ExtractField::Month, now::<String>())
        ),
    );
}

#[test]
fn literal_select_items() {
    check(
        "literal_items",
        select!(literal(1_i64), literal("x"), User::id FROM User),
    );
}

#[test]
fn upsert_do_update_where() {
    let stmt = quarry::Insert::into_table(User::table())
        .value(User::id, 1)
        .value(User::name, "ed")
        .on_conflict(User::id)
        .do_update()
        .set_excluded(User::name)
        .filter(User::name.ne("x"));
    check("upsert_do_update_where", stmt);
}

#[test]
fn delete_through_an_alias() {
    let u = User::alias("u");
    check("delete_alias", u.delete().filter(u.col(User::id).eq(1)));
}

#[test]
fn tuple_in() {
    let written = select!(User::id FROM User
        WHERE tuple_((User::id, User::name)).in_([(1_i64, "a"), (2, "b")]));
    let built = quarry::select(User::id)
        .filter(quarry::func::tuple_((User::id, User::name)).in_([(1_i64, "a"), (2, "b")]));
    assert_eq!(
        built.compile(&dialect::Sqlite).expect("built"),
        written.compile(&dialect::Sqlite).expect("written")
    );
    check("tuple_in", written);
}

#[test]
fn multi_row_insert_of_some_columns() {
    let stmt = quarry::Insert::rows::<User, _, _>(
        (User::name, User::hair_color),
        [("ed", Some("black")), ("wendy", None)],
    );
    check("insert_rows_some_columns", stmt);
}

#[test]
fn explicit_correlation() {
    let inner = || quarry::select(Post::id).filter(Post::user_id.eq(User::id));
    check(
        "correlate_except",
        quarry::select(User::name).filter(inner().correlate_except(User::table()).exists()),
    );
    check(
        "correlate_only",
        quarry::select((User::name, Post::title)).filter(inner().correlate(User::table()).exists()),
    );
}

#[test]
fn upsert_on_constraint_and_without_target() {
    let insert = || {
        quarry::Insert::into_table(User::table())
            .value(User::id, 1)
            .value(User::name, "ed")
    };
    check(
        "upsert_on_constraint",
        insert()
            .on_conflict_constraint("users_pkey")
            .do_update()
            .set_excluded(User::name),
    );
    check(
        "upsert_without_target",
        insert()
            .on_conflict_any()
            .do_update()
            .set_excluded(User::name),
    );
}

#[test]
fn a_compound_as_a_member_of_another_and_inside_in() {
    let name = |id: i64| select!(User::name FROM User WHERE User::id == id);
    check("compound_member", name(1).union(name(2).intersect(name(3))));
    check(
        "compound_members_both_sides",
        name(1).union(name(2)).except(name(3).union_all(name(4))),
    );
    let ids = |id: i64| select!(User::id FROM User WHERE User::id == id);
    let written = select!(User::name FROM User WHERE User::id.in_(
        select!(User::id FROM User WHERE User::id == 1).union(select!(User::id FROM User WHERE User::id == 2))));
    let built = quarry::select(User::name).filter(User::id.in_(ids(1).union(ids(2))));
    assert_eq!(
        built.compile(&dialect::Postgres).expect("built"),
        written.compile(&dialect::Postgres).expect("written")
    );
    check("in_compound", written);
    check(
        "not_in_compound",
        quarry::select(User::name).filter(User::id.not_in(ids(1).union(ids(2).intersect(ids(3))))),
    );
    // The members correlate to the enclosing query, as a subquery's FROM does.
    check(
        "in_compound_correlated",
        select!(User::name FROM User WHERE User::id.in_(
            select!(Post::user_id FROM Post WHERE Post::user_id == User::id)
                .union(select!(Post::user_id FROM Post WHERE Post::title == "x")))),
    );
}

#[test]
fn a_join_nested_on_the_right() {
    let written = select!(User::name, Post::title, Comment::text FROM User
        LEFT JOIN (Post JOIN Comment ON Comment::post_id == Post::id) ON Post::user_id == User::id);
    let built = quarry::select((
        User::name,
        quarry::nullable(Post::title),
        quarry::nullable(Comment::text),
    ))
    .from(User::table())
    .left_join(
        quarry::joined(Post::table()).join(Comment::table(), Comment::post_id.eq(Post::id)),
        Post::user_id.eq(User::id),
    );
    assert_eq!(
        built.compile(&dialect::Mysql).expect("built"),
        written.compile(&dialect::Mysql).expect("written")
    );
    check("nested_join", written);
}

#[test]
fn coalesce_of_one_argument() {
    let written = select!(coalesce(User::hair_color) FROM User);
    let built = quarry::select(quarry::func::coalesce_one(User::hair_color));
    assert_eq!(
        built.compile(&dialect::Sqlite).expect("built"),
        written.compile(&dialect::Sqlite).expect("written")
    );
    check("coalesce_one", written);
}

#[test]
fn null_true_and_false_select_items() {
    let written = select!(null::<String>(), true_(), false_(), User::id FROM User);
    let built = quarry::select((
        quarry::func::null::<String>(),
        quarry::func::true_(),
        quarry::func::false_(),
        User::id,
    ));
    assert_eq!(
        built.compile(&dialect::Sqlite).expect("built"),
        written.compile(&dialect::Sqlite).expect("written")
    );
    check("null_true_false", written);
    check(
        "null_true_labeled",
        quarry::select((
            quarry::func::null::<i64>().label("x"),
            quarry::func::true_().label("t"),
        )),
    );
}

#[test]
fn an_in_list_mixing_values_and_columns() {
    use quarry::func::in_item;
    let written = select!(User::id FROM User, Post WHERE User::id.in_([1, Post::user_id, 3]));
    let built = quarry::select(User::id)
        .from(User::table())
        .from(Post::table())
        .filter(User::id.in_([in_item(1), in_item(Post::user_id), in_item(3)]));
    assert_eq!(
        built.compile(&dialect::Postgres).expect("built"),
        written.compile(&dialect::Postgres).expect("written")
    );
    check("in_mixed", written);
    check(
        "not_in_mixed",
        select!(User::id FROM User, Post WHERE User::id.not_in([1, Post::user_id])),
    );
}

#[test]
fn extract_seconds() {
    use quarry::func::ExtractField;
    let written = select!(extract(ExtractField::Second, now::<String>()));
    let built = quarry::select(quarry::func::extract(
        ExtractField::Second,
        quarry::func::now::<String>(),
    ));
    assert_eq!(
        built.compile(&dialect::Sqlite).expect("built"),
        written.compile(&dialect::Sqlite).expect("written")
    );
    check("extract_second", written);
}

#[test]
fn lateral_and_distinct_on_in_select_macro() {
    let last_post = quarry::select(Post::title)
        .filter(Post::user_id.eq(User::id))
        .order_by(Post::id.desc())
        .limit(1)
        .subquery("last_post");
    let lateral = last_post.lateral();
    let built = quarry::select((User::name, quarry::nullable(lateral.col(Post::title))))
        .from(User::table())
        .left_join(&lateral, quarry::func::true_());
    let written = select!(User::name, last_post.col(Post::title) FROM User
        LEFT JOIN LATERAL last_post ON true_());
    assert_eq!(
        built.compile(&dialect::Postgres).expect("built"),
        written.compile(&dialect::Postgres).expect("written")
    );
    check("lateral_left_macro", written);

    let written = select!(DISTINCT ON (User::hair_color) User FROM User
        ORDER BY User::hair_color, User::id);
    let built = User::select()
        .distinct_on(User::hair_color)
        .order_by(User::hair_color)
        .order_by(User::id);
    assert_eq!(
        built.compile(&dialect::Postgres).expect("built"),
        written.compile(&dialect::Postgres).expect("written")
    );
    check("distinct_on_macro", written);
}

#[test]
fn delete_macro_through_an_alias() {
    let u = User::alias("u");
    let written = delete!(u WHERE u.col(User::id) == 1);
    let built = u.delete().filter(u.col(User::id).eq(1));
    assert_eq!(
        built.compile(&dialect::Sqlite).expect("built"),
        written.compile(&dialect::Sqlite).expect("written")
    );
    check("delete_alias_macro", written);
}

#[test]
fn a_cte_column_it_does_not_select_is_an_error() {
    // The CTE is a value built at run time: its columns are known then, not to the compiler.
    let recent = select!(Post::user_id FROM Post).cte("recent");
    check(
        "cte_missing_column",
        select!(recent.col(Post::title) FROM recent),
    );
}
