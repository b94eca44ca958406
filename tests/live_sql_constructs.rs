//! The SQL of `tests/sql_constructs.rs` run on every backend (SQLite, PostgreSQL, MariaDB),
//! results checked: CTEs (recursive too, and before UPDATE / DELETE), window functions and
//! frames, an aggregate's FILTER, row locks between two connections, CASE and CAST, NULLS
//! ordering.

mod support;

use quarry::func::{FrameBound, dense_rank, lag, lead, ntile, order_by, rank, sum};
use quarry::prelude::*;
use quarry::{Compile, Expr};
use support::{Backend, backends};

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
    #[column(max_length = 50)]
    pub title: String,
    pub score: f64,
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
    #[column(max_length = 50)]
    pub text: String,
}

/// ed (black, no boss) with 2 posts, wendy (black, boss ed) with 1, mary (no color, boss ed),
/// sue (red, boss wendy).
fn setup(b: &Backend) -> Connection {
    META.create_all(&b.engine).expect("create_all");
    let mut conn = b.engine.connect().expect("connect");
    for (name, color, boss) in [
        ("ed", Some("black"), None),
        ("wendy", Some("black"), Some(1)),
        ("mary", None, Some(1)),
        ("sue", Some("red"), Some(2)),
    ] {
        conn.execute(insert!(User {
            name: name,
            hair_color: color,
            boss_id: boss
        }))
        .expect("insert user");
    }
    for (user, title, score) in [(1, "hello", 1.5), (1, "again", 2.5), (2, "hi", 4.0)] {
        conn.execute(insert!(Post {
            user_id: user,
            title: title,
            score: score
        }))
        .expect("insert post");
    }
    conn
}

#[test]
fn ctes_join_nest_and_recurse() {
    for b in backends("ctes_join_nest_and_recurse") {
        let mut conn = setup(&b);
        let recent =
            select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("recent");
        let n: Expr<i64> = recent.column("count_1").expect("count_1");
        let counts: Vec<(String, i64)> = conn
            .execute(select!(User::name, n FROM User JOIN recent
                ON recent.col(Post::user_id) == User::id ORDER BY User::id))
            .expect("cte join")
            .all()
            .expect("rows");
        assert_eq!(
            counts,
            [("ed".into(), 2), ("wendy".into(), 1)],
            "{}",
            b.name
        );

        let n: Expr<i64> = recent.column("count_1").expect("count_1");
        let busy = select!(recent.col(Post::user_id) FROM recent WHERE n.gt(1)).cte("busy");
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User
                WHERE User::id.in_(select!(busy.col(Post::user_id) FROM busy))))
            .expect("two ctes")
            .all()
            .expect("rows");
        assert_eq!(names, ["ed"], "{}", b.name);

        // A tree walk: everyone under ed, however deep.
        let tree = select!(User::id, User::name FROM User WHERE User::boss_id == None)
            .cte_recursive("tree");
        let tree = tree.union_all(select!(User::id, User::name FROM User
            JOIN tree ON User::boss_id == tree.col(User::id)));
        let mut everyone: Vec<String> = conn
            .execute(select!(tree.col(User::name) FROM tree))
            .expect("tree walk")
            .all()
            .expect("rows");
        everyone.sort();
        assert_eq!(everyone, ["ed", "mary", "sue", "wendy"], "{}", b.name);

        // A counter: 1, 2, … 5 from one row.
        let counter = select!(User::id FROM User WHERE User::id == 1).cte_recursive("counter");
        let counter = counter.union_all(select!(counter.col(User::id) + 1 FROM counter
            WHERE counter.col(User::id) < 5));
        let numbers: Vec<i64> = conn
            .execute(select!(counter.col(User::id) FROM counter ORDER BY counter.col(User::id)))
            .expect("counter")
            .all()
            .expect("rows");
        assert_eq!(numbers, [1, 2, 3, 4, 5], "{}", b.name);
    }
}

#[test]
fn ctes_before_update_and_delete() {
    for b in backends("ctes_before_update_and_delete") {
        let mut conn = setup(&b);
        let posters =
            select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("posters");
        let updated = conn.execute(update!(User SET hair_color = "blue"
            WHERE User::id.in_(select!(posters.col(Post::user_id) FROM posters))));
        if b.is_mysql() {
            // MySQL 8 takes WITH before UPDATE and DELETE; MariaDB (the server here) does not.
            match updated {
                Err(e) => assert!(e.to_string().contains("syntax"), "{e}"),
                Ok(_) => panic!("MariaDB refuses WITH … UPDATE"),
            }
            continue;
        }
        updated.expect("update with a cte");
        let blue: Vec<String> = conn
            .execute(
                select!(User::name FROM User WHERE User::hair_color == "blue" ORDER BY User::id),
            )
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(blue, ["ed", "wendy"], "{}", b.name);
        let quiet = select!(User::id FROM User WHERE User::boss_id == 2).cte("quiet");
        conn.execute(delete!(User WHERE User::id.in_(select!(quiet.col(User::id) FROM quiet))))
            .expect("delete with a cte");
        let left: i64 = conn
            .execute(select!(count(User::id) FROM User))
            .expect("count")
            .scalar()
            .expect("n");
        assert_eq!(left, 3, "{}", b.name);
    }
}

#[test]
fn window_functions_rank_number_and_frame() {
    for b in backends("window_functions_rank_number_and_frame") {
        let mut conn = setup(&b);
        let numbered: Vec<(String, i64)> = conn
            .execute(
                select!(User::name, row_number().over(partition_by(User::hair_color)
                .order_by(User::id)) FROM User ORDER BY User::id),
            )
            .expect("row_number")
            .all()
            .expect("rows");
        let numbers: Vec<i64> = numbered.iter().map(|r| r.1).collect();
        assert_eq!(numbers, [1, 2, 1, 1], "{}", b.name);

        let ranks: Vec<(i64, i64, i64)> = conn
            .execute(
                quarry::select((
                    rank().over(order_by(User::hair_color)),
                    dense_rank().over(order_by(User::hair_color)),
                    ntile(2).over(order_by(User::id)),
                ))
                .order_by(User::id),
            )
            .expect("rank")
            .all()
            .expect("rows");
        let mut by_color: Vec<(i64, i64)> = ranks.iter().map(|r| (r.0, r.1)).collect();
        by_color.sort();
        // NULL sorts first on SQLite and MariaDB, last on PostgreSQL: compare as sets.
        let expected: &[(i64, i64)] = if b.is_postgres() {
            &[(1, 1), (1, 1), (3, 2), (4, 3)]
        } else {
            &[(1, 1), (2, 2), (2, 2), (4, 3)]
        };
        assert_eq!(by_color, expected, "{}", b.name);
        let tiles: Vec<i64> = ranks.iter().map(|r| r.2).collect();
        assert_eq!(tiles, [1, 1, 2, 2], "{}", b.name);

        let neighbours: Vec<(Option<String>, Option<String>)> = conn
            .execute(
                quarry::select((
                    lag(User::name, 1).over(order_by(User::id)),
                    lead(User::name, 1).over(order_by(User::id)),
                ))
                .order_by(User::id),
            )
            .expect("lag lead")
            .all()
            .expect("rows");
        assert_eq!(neighbours[0], (None, Some("wendy".into())), "{}", b.name);
        assert_eq!(neighbours[3], (Some("mary".into()), None), "{}", b.name);

        let running: Vec<Option<f64>> = conn
            .execute(
                quarry::select(
                    sum(Post::score).over(
                        order_by(Post::id)
                            .rows_between(FrameBound::UnboundedPreceding, FrameBound::CurrentRow),
                    ),
                )
                .order_by(Post::id),
            )
            .expect("running sum")
            .all()
            .expect("rows");
        assert_eq!(running, [Some(1.5), Some(4.0), Some(8.0)], "{}", b.name);

        let around: Vec<Option<i64>> = conn
            .execute(select!(sum(User::id).over(order_by(User::id)
                .range_between(FrameBound::Preceding(1), FrameBound::Following(1)))
                FROM User ORDER BY User::id))
            .expect("range frame")
            .all()
            .expect("rows");
        assert_eq!(around, [Some(3), Some(6), Some(9), Some(7)], "{}", b.name);

        // Top 1 post per user: a CTE with row_number(), filtered outside it.
        let ranked = select!(Post::user_id, Post::title,
            row_number().over(partition_by(Post::user_id).order_by(Post::score.desc())).label("rn")
            FROM Post)
        .cte("ranked");
        let rn: Expr<i64> = ranked.column("rn").expect("rn");
        let best: Vec<(i64, String)> = conn
            .execute(
                select!(ranked.col(Post::user_id), ranked.col(Post::title) FROM ranked
                WHERE rn.eq(1) ORDER BY ranked.col(Post::user_id)),
            )
            .expect("top per group")
            .all()
            .expect("rows");
        assert_eq!(best, [(1, "again".into()), (2, "hi".into())], "{}", b.name);

        let filtered =
            conn.execute(select!(count(User::id).filter(User::hair_color == "black") FROM User));
        if b.is_mysql() {
            assert!(
                matches!(filtered, Err(quarry::Error::Unsupported { .. })),
                "{}",
                b.name
            );
        } else {
            let n: i64 = filtered.expect("filter").scalar().expect("n");
            assert_eq!(n, 2, "{}", b.name);
        }
    }
}

#[test]
fn case_cast_and_nulls_ordering() {
    for b in backends("case_cast_and_nulls_ordering") {
        let mut conn = setup(&b);
        let sizes: Vec<String> = conn
            .execute(
                select!(case_when(User::id > 2, "big").else_("small") FROM User ORDER BY User::id),
            )
            .expect("case")
            .all()
            .expect("rows");
        assert_eq!(sizes, ["small", "small", "big", "big"], "{}", b.name);
        let maybe: Vec<Option<i64>> = conn
            .execute(
                select!(case_when(User::hair_color == "red", 1_i64) FROM User ORDER BY User::id),
            )
            .expect("case without else")
            .all()
            .expect("rows");
        assert_eq!(maybe, [None, None, None, Some(1)], "{}", b.name);
        let texts: Vec<String> = conn
            .execute(select!(cast::<String>(User::id) FROM User ORDER BY User::id))
            .expect("cast")
            .all()
            .expect("rows");
        assert_eq!(texts, ["1", "2", "3", "4"], "{}", b.name);
        let colors = quarry::select(User::name)
            .order_by(User::hair_color.asc().nulls_first())
            .order_by(User::id.asc());
        if b.is_mysql() {
            assert!(colors.compile(b.engine.dialect()).is_err());
        } else {
            let names: Vec<String> = conn
                .execute(colors)
                .expect("nulls first")
                .all()
                .expect("rows");
            assert_eq!(names, ["mary", "ed", "wendy", "sue"], "{}", b.name);
        }
    }
}

#[test]
fn row_locks_block_skip_and_fail_fast() {
    for b in backends("row_locks_block_skip_and_fail_fast") {
        let mut conn = setup(&b);
        {
            let mut tx = conn.begin().expect("begin");
            let locked: Vec<User> = tx
                .execute(select!(User WHERE User::id == 1 FOR UPDATE))
                .expect("for update")
                .all()
                .expect("rows");
            assert_eq!(locked.len(), 1, "{}", b.name);
            if b.is_sqlite() {
                // No row locks: the clause is left out, as SQLAlchemy does.
                tx.commit().expect("commit");
                continue;
            }
            let mut other = b.engine.connect().expect("second connection");
            let mut other_tx = other.begin().expect("begin");
            let free: Vec<i64> = other_tx
                .execute(select!(User::id FROM User ORDER BY User::id FOR UPDATE SKIP LOCKED))
                .expect("skip locked")
                .all()
                .expect("rows");
            assert_eq!(free, [2, 3, 4], "{}", b.name);
            let busy =
                other_tx.execute(select!(User::id FROM User WHERE User::id == 1 FOR UPDATE NOWAIT));
            assert!(busy.is_err(), "{}: NOWAIT on a locked row fails", b.name);
            drop(other_tx);
            let shared: Vec<i64> = other
                .execute(select!(User::id FROM User WHERE User::id == 2 FOR SHARE))
                .expect("for share")
                .all()
                .expect("rows");
            assert_eq!(shared, [2], "{}", b.name);
            if b.is_postgres() {
                let of: Vec<(String, String)> = other
                    .execute(select!(User::name, Post::title FROM User JOIN Post
                        ON Post::user_id == User::id WHERE User::id == 2 FOR UPDATE OF Post))
                    .expect("for update of")
                    .all()
                    .expect("rows");
                assert_eq!(of.len(), 1);
            }
            tx.commit().expect("commit");
        }
    }
}

#[test]
fn a_chain_changing_operator_keeps_its_order_of_evaluation() {
    for b in backends("a_chain_changing_operator_keeps_its_order") {
        let mut conn = setup(&b);
        let name = |id: i64| select!(User::name FROM User WHERE User::id == id);
        // (ed ∪ wendy) ∩ mary is empty; read as ed ∪ (wendy ∩ mary) it would be [ed].
        let names: Vec<String> = conn
            .execute(name(1).union(name(2)).intersect(name(3)))
            .expect("grouped compound")
            .all()
            .expect("rows");
        assert!(names.is_empty(), "{}: {names:?}", b.name);
        let mut names: Vec<String> = conn
            .execute(name(1).intersect(name(1)).union(name(2)))
            .expect("grouped compound")
            .all()
            .expect("rows");
        names.sort();
        assert_eq!(names, ["ed", "wendy"], "{}", b.name);
    }
}

#[test]
fn distinct_from_scalar_functions_and_distinct_on() {
    for b in backends("distinct_from_scalar_functions_and_distinct") {
        let mut conn = setup(&b);
        // mary's NULL is distinct from "black"; `!=` would leave her out.
        let other: Vec<String> = conn
            .execute(
                select!(User::name FROM User WHERE User::hair_color.is_distinct_from("black")
                ORDER BY User::id),
            )
            .expect("is distinct from")
            .all()
            .expect("rows");
        assert_eq!(other, ["mary", "sue"], "{}", b.name);
        let colorless: Vec<String> = conn
            .execute(select!(User::name FROM User
                WHERE User::hair_color.is_not_distinct_from(None::<String>)))
            .expect("is not distinct from NULL")
            .all()
            .expect("rows");
        assert_eq!(colorless, ["mary"], "{}", b.name);

        let row: (String, String, String, i64, f64) = conn
            .execute(
                select!(substr(User::name, 2, 3), replace(User::name, "d", "D"),
                trim(User::name), abs(-User::id), round(Post::score)
                FROM User JOIN Post ON Post::user_id == User::id WHERE Post::id == 1),
            )
            .expect("scalar functions")
            .one()
            .expect("row");
        assert_eq!(
            row,
            // 1.5 rounds to 2 everywhere (PostgreSQL rounds a double half to even).
            ("d".into(), "eD".into(), "ed".into(), 1, 2.0),
            "{}",
            b.name
        );
        let stamp: String = conn
            .execute(select!(cast::<String>(now::<String>()) FROM User WHERE User::id == 1))
            .expect("now")
            .scalar()
            .expect("stamp");
        assert!(stamp.starts_with("20"), "{}: {stamp}", b.name);
        let (year, month): (i64, i64) = conn
            .execute(select!(
                extract(quarry::func::ExtractField::Year, now::<String>()),
                extract(quarry::func::ExtractField::Month, now::<String>())
            ))
            .expect("extract")
            .one()
            .expect("row");
        assert!(
            year >= 2024 && (1..=12).contains(&month),
            "{}: {year} {month}",
            b.name
        );

        let first_per_color = User::select()
            .distinct_on(User::hair_color)
            .order_by(User::hair_color)
            .order_by(User::id);
        if b.is_postgres() {
            let users: Vec<User> = conn
                .execute(first_per_color)
                .expect("distinct on")
                .all()
                .expect("rows");
            let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
            assert_eq!(names, ["ed", "sue", "mary"]);
        } else {
            assert!(matches!(
                first_per_color.compile(b.engine.dialect()),
                Err(quarry::Error::Unsupported { .. })
            ));
        }
    }
}

#[test]
fn insert_from_a_select_copies_rows() {
    for b in backends("insert_from_a_select_copies_rows") {
        let mut conn = setup(&b);
        let copied = conn
            .execute(
                insert!(Archive (id, name) FROM select!(User::id, User::name FROM User
                WHERE User::hair_color == "black")),
            )
            .expect("insert from select");
        assert_eq!(copied.rowcount(), 2, "{}", b.name);
        let archived: Vec<Archive> = conn
            .execute(select!(Archive ORDER BY Archive::id))
            .expect("select")
            .all()
            .expect("rows");
        let names: Vec<&str> = archived.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["ed", "wendy"], "{}", b.name);
    }
}

#[test]
fn multi_table_update_and_delete() {
    for b in backends("multi_table_update_and_delete") {
        let mut conn = setup(&b);
        // Each poster's name becomes the title of their first post.
        conn.execute(update!(User SET name = Post::title FROM Post
            WHERE User::id == Post::user_id && (Post::id == 1 || Post::id == 3)))
            .expect("UPDATE … FROM");
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User ORDER BY User::id))
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(names, ["hello", "hi", "mary", "sue"], "{}", b.name);

        let deleted = conn.execute(delete!(Post USING User
            WHERE Post::user_id == User::id && User::hair_color == "black" && Post::score > 2.0));
        if b.is_sqlite() {
            assert!(
                matches!(deleted, Err(quarry::Error::Unsupported { .. })),
                "{}",
                b.name
            );
            continue;
        }
        assert_eq!(deleted.expect("DELETE … USING").rowcount(), 2, "{}", b.name);
        let left: Vec<String> = conn
            .execute(select!(Post::title FROM Post))
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(left, ["hello"], "{}", b.name);
    }
}

#[test]
fn text_searches_match_what_they_say() {
    for b in backends("text_searches_match_what_they_say") {
        let mut conn = setup(&b);
        let found = |conn: &mut Connection, stmt: quarry::Select<String>| -> Vec<String> {
            conn.execute(stmt).expect("search").all().expect("rows")
        };
        assert_eq!(
            found(
                &mut conn,
                select!(User::name FROM User WHERE User::name.contains("ar")
            ORDER BY User::id)
            ),
            ["mary"],
            "{}",
            b.name
        );
        assert_eq!(
            found(
                &mut conn,
                select!(User::name FROM User WHERE User::name.startswith("we"))
            ),
            ["wendy"],
            "{}",
            b.name
        );
        assert_eq!(
            found(
                &mut conn,
                select!(User::name FROM User WHERE User::name.endswith("e")
            ORDER BY User::id)
            ),
            ["sue"],
            "{}",
            b.name
        );
        assert_eq!(
            found(
                &mut conn,
                select!(User::name FROM User WHERE User::name.ilike("ED"))
            ),
            ["ed"],
            "{}",
            b.name
        );
        assert_eq!(
            found(
                &mut conn,
                select!(User::name FROM User WHERE !User::name.contains("e")
            ORDER BY User::id)
            ),
            ["mary"],
            "{}",
            b.name
        );
    }
}

#[test]
fn full_outer_join_keeps_unmatched_rows_of_both_sides() {
    for b in backends("full_outer_join_keeps_unmatched_rows") {
        let mut conn = setup(&b);
        // "hello" (score 1.5) matches no user under this condition: a row without a user.
        let stmt = select!(User::name, Post::title FROM User FULL OUTER JOIN Post
            ON Post::user_id == User::id && Post::score > 2.0);
        if b.is_mysql() {
            assert!(matches!(
                stmt.compile(b.engine.dialect()),
                Err(quarry::Error::Unsupported { .. })
            ));
            continue;
        }
        let mut rows: Vec<(Option<String>, Option<String>)> =
            conn.execute(stmt).expect("full join").all().expect("rows");
        rows.sort();
        assert_eq!(
            rows,
            [
                (None, Some("hello".into())),
                (Some("ed".into()), Some("again".into())),
                (Some("mary".into()), None),
                (Some("sue".into()), None),
                (Some("wendy".into()), Some("hi".into())),
            ],
            "{}",
            b.name
        );
    }
}

#[test]
fn lateral_join_reads_each_users_last_post() {
    for b in backends("lateral_join_reads_each_users_last_post") {
        let mut conn = setup(&b);
        let last_post = quarry::select(Post::title)
            .filter(Post::user_id.eq(User::id))
            .order_by(Post::id.desc())
            .limit(1)
            .subquery("last_post");
        // The builder's `.lateral()` and select!'s `JOIN LATERAL`.
        let lateral = last_post.lateral();
        let built = select!(User::name, lateral.col(Post::title) FROM User
            LEFT JOIN lateral ON true_() ORDER BY User::id);
        let written = select!(User::name, last_post.col(Post::title) FROM User
            LEFT JOIN LATERAL last_post ON true_() ORDER BY User::id);
        for stmt in [built, written] {
            if b.is_sqlite() {
                assert!(matches!(
                    stmt.compile(b.engine.dialect()),
                    Err(quarry::Error::Unsupported { .. })
                ));
                continue;
            }
            let rows = conn.execute(stmt);
            if b.is_mysql() {
                // MySQL 8 has LATERAL; MariaDB (the server here) does not.
                assert!(rows.is_err(), "MariaDB refuses LATERAL");
                continue;
            }
            let rows: Vec<(String, Option<String>)> = rows.expect("lateral").all().expect("rows");
            assert_eq!(
                rows,
                [
                    ("ed".into(), Some("again".into())),
                    ("wendy".into(), Some("hi".into())),
                    ("mary".into(), None),
                    ("sue".into(), None),
                ]
            );
        }
    }
}

#[test]
fn upsert_updates_only_rows_passing_its_condition() {
    for b in backends("upsert_updates_only_rows_passing") {
        let mut conn = setup(&b);
        let upsert = |name: &str, unless: &str| {
            quarry::Insert::into_table(User::table())
                .value(User::id, 1)
                .value(User::name, name.to_owned())
                .on_conflict(User::id)
                .do_update()
                .set_excluded(User::name)
                .filter(User::name.ne(unless.to_owned()))
        };
        if b.is_mysql() {
            assert!(matches!(
                upsert("x", "ed").compile(b.engine.dialect()),
                Err(quarry::Error::Unsupported { .. })
            ));
            continue;
        }
        let name_of_1 = |conn: &mut Connection| -> String {
            conn.execute(select!(User::name FROM User WHERE User::id == 1))
                .expect("select")
                .scalar()
                .expect("name")
        };
        conn.execute(upsert("edward", "ed"))
            .expect("upsert skipped");
        assert_eq!(
            name_of_1(&mut conn),
            "ed",
            "{}: the condition failed",
            b.name
        );
        conn.execute(upsert("eddie", "nobody"))
            .expect("upsert applied");
        assert_eq!(name_of_1(&mut conn), "eddie", "{}", b.name);
    }
}

#[test]
fn delete_through_an_alias() {
    for b in backends("delete_through_an_alias") {
        let mut conn = setup(&b);
        let u = User::alias("u");
        let deleted = conn.execute(u.delete().filter(u.col(User::id).eq(4)));
        if b.is_mysql() {
            // MySQL ≥ 8.0.16 takes an alias in a single-table DELETE; MariaDB does not.
            assert!(deleted.is_err(), "MariaDB refuses DELETE … AS");
            continue;
        }
        assert_eq!(deleted.expect("delete").rowcount(), 1, "{}", b.name);
        let n: i64 = conn
            .execute(select!(count(User::id) FROM User))
            .expect("count")
            .scalar()
            .expect("n");
        assert_eq!(n, 3, "{}", b.name);
    }
}

#[test]
fn tuple_in_matches_whole_rows() {
    for b in backends("tuple_in_matches_whole_rows") {
        let mut conn = setup(&b);
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User
                WHERE tuple_((User::id, User::name)).in_([(1_i64, "ed"), (2, "nobody"), (3, "mary")])
                ORDER BY User::id))
            .expect("tuple in")
            .all()
            .expect("rows");
        assert_eq!(names, ["ed", "mary"], "{}", b.name);
    }
}

#[test]
fn multi_row_insert_of_some_columns() {
    for b in backends("multi_row_insert_of_some_columns") {
        let mut conn = setup(&b);
        let inserted = conn
            .execute(quarry::Insert::rows::<User, _, _>(
                (User::name, User::hair_color),
                [("tom", Some("grey")), ("ann", None)],
            ))
            .expect("insert rows");
        assert_eq!(inserted.rowcount(), 2, "{}", b.name);
        let added: Vec<(String, Option<String>)> = conn
            .execute(
                select!(User::name, User::hair_color FROM User WHERE User::id > 4
                ORDER BY User::id),
            )
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(
            added,
            [("tom".into(), Some("grey".into())), ("ann".into(), None)],
            "{}",
            b.name
        );
    }
}

#[test]
fn explicit_correlation_changes_the_result() {
    for b in backends("explicit_correlation_changes_the_result") {
        let mut conn = setup(&b);
        let inner = || quarry::select(Post::id).filter(Post::user_id.eq(User::id));
        // Correlated (the default): only users with a post.
        let auto: Vec<String> = conn
            .execute(
                quarry::select(User::name)
                    .filter(inner().exists())
                    .order_by(User::id),
            )
            .expect("auto")
            .all()
            .expect("rows");
        assert_eq!(auto, ["ed", "wendy"], "{}", b.name);
        // Not correlated to users: the subquery has rows whatever the outer user.
        let except: Vec<String> = conn
            .execute(
                quarry::select(User::name)
                    .filter(inner().correlate_except(User::table()).exists())
                    .order_by(User::id),
            )
            .expect("correlate_except")
            .all()
            .expect("rows");
        assert_eq!(except, ["ed", "wendy", "mary", "sue"], "{}", b.name);
        // Correlated to users only, though posts is in the outer FROM too.
        let only: Vec<(String, String)> = conn
            .execute(
                quarry::select((User::name, Post::title))
                    .filter(inner().correlate(User::table()).exists()),
            )
            .expect("correlate")
            .all()
            .expect("rows");
        assert_eq!(only.len(), 6, "{}", b.name);
    }
}

#[test]
fn upsert_on_a_named_constraint_or_any_conflict() {
    for b in backends("upsert_on_a_named_constraint") {
        let mut conn = setup(&b);
        let insert = || {
            quarry::Insert::into_table(User::table())
                .value(User::id, 1)
                .value(User::name, "edna")
        };
        let stmt = if b.is_postgres() {
            insert()
                .on_conflict_constraint("users_pkey")
                .do_update()
                .set_excluded(User::name)
        } else {
            insert()
                .on_conflict_any()
                .do_update()
                .set_excluded(User::name)
        };
        // On MySQL the any-conflict form is the plain ON DUPLICATE KEY UPDATE (no target).
        conn.execute(stmt).expect("upsert");
        let name: String = conn
            .execute(select!(User::name FROM User WHERE User::id == 1))
            .expect("select")
            .scalar()
            .expect("name");
        assert_eq!(name, "edna", "{}", b.name);
    }
}

#[test]
fn compounds_nested_in_compounds_and_in_in() {
    for b in backends("compounds_nested_in_compounds_and_in_in") {
        let mut conn = setup(&b);
        let name = |id: i64| select!(User::name FROM User WHERE User::id == id);
        // ed EXCEPT (ed UNION wendy) is empty; read flat, (ed EXCEPT ed) UNION wendy is [wendy].
        let names: Vec<String> = conn
            .execute(name(1).except(name(1).union(name(2))))
            .expect("compound member")
            .all()
            .expect("rows");
        assert!(names.is_empty(), "{}: {names:?}", b.name);
        let names: Vec<String> = conn
            .execute(name(1).union(name(2).intersect(name(2))))
            .expect("compound member")
            .all()
            .expect("rows");
        let mut names = names;
        names.sort();
        assert_eq!(names, ["ed", "wendy"], "{}", b.name);

        let ids = |id: i64| select!(User::id FROM User WHERE User::id == id);
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User
                WHERE User::id.in_(ids(1).union(ids(3))) ORDER BY User::id))
            .expect("in compound")
            .all()
            .expect("rows");
        assert_eq!(names, ["ed", "mary"], "{}", b.name);
        let names: Vec<String> = conn
            .execute(
                quarry::select(User::name)
                    .filter(User::id.not_in(ids(1).union(ids(2).intersect(ids(3)))))
                    .order_by(User::id),
            )
            .expect("not in compound")
            .all()
            .expect("rows");
        assert_eq!(names, ["wendy", "mary", "sue"], "{}", b.name);
        // The members correlate: each user's own posts, or the post titled "hi".
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User WHERE User::id.in_(
                select!(Post::user_id FROM Post WHERE Post::user_id == User::id && Post::score > 2.0)
                    .union(select!(Post::user_id FROM Post WHERE Post::title == "hi")))
                ORDER BY User::id))
            .expect("correlated compound")
            .all()
            .expect("rows");
        assert_eq!(names, ["ed", "wendy"], "{}", b.name);
    }
}

#[test]
fn a_join_nested_on_the_right_keeps_unmatched_left_rows() {
    for b in backends("a_join_nested_on_the_right") {
        let mut conn = setup(&b);
        for (post, text) in [(1, "nice"), (3, "ok")] {
            conn.execute(insert!(Comment {
                post_id: post,
                text: text
            }))
            .expect("insert comment");
        }
        // Only posts with a comment join users; users without one keep their row. Flat,
        // `users LEFT JOIN posts … JOIN comments …` would drop mary and sue.
        let rows: Vec<(String, Option<String>, Option<String>)> = conn
            .execute(select!(User::name, Post::title, Comment::text FROM User
                LEFT JOIN (Post JOIN Comment ON Comment::post_id == Post::id)
                ON Post::user_id == User::id ORDER BY User::id))
            .expect("nested join")
            .all()
            .expect("rows");
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            rows,
            [
                ("ed".into(), some("hello"), some("nice")),
                ("wendy".into(), some("hi"), some("ok")),
                ("mary".into(), None, None),
                ("sue".into(), None, None),
            ],
            "{}",
            b.name
        );
    }
}

#[test]
fn coalesce_null_true_false_and_mixed_in_lists() {
    for b in backends("coalesce_null_true_false_and_mixed_in") {
        let mut conn = setup(&b);
        let colors: Vec<Option<String>> = conn
            .execute(select!(coalesce(User::hair_color) FROM User ORDER BY User::id))
            .expect("coalesce of one")
            .all()
            .expect("rows");
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            colors,
            [some("black"), some("black"), None, some("red")],
            "{}",
            b.name
        );

        let row: (Option<String>, bool, bool, i64) = conn
            .execute(
                select!(null::<String>(), true_(), false_(), User::id FROM User
                WHERE User::id == 1),
            )
            .expect("null, true, false")
            .one()
            .expect("row");
        assert_eq!(row, (None, true, false, 1), "{}", b.name);

        // Post 3 is wendy's: ed by value, wendy through the column.
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User, Post
                WHERE Post::id == 3 && User::id.in_([1, Post::user_id]) ORDER BY User::id))
            .expect("mixed in list")
            .all()
            .expect("rows");
        assert_eq!(names, ["ed", "wendy"], "{}", b.name);
        let names: Vec<String> = conn
            .execute(
                quarry::select(User::name)
                    .from(User::table())
                    .from(Post::table())
                    .filter(Post::id.eq(3))
                    .filter(User::id.not_in([
                        quarry::func::in_item(1_i64),
                        quarry::func::in_item(Post::user_id),
                    ]))
                    .order_by(User::id),
            )
            .expect("mixed not in list")
            .all()
            .expect("rows");
        assert_eq!(names, ["mary", "sue"], "{}", b.name);

        let second: i64 = conn
            .execute(select!(extract(
                quarry::func::ExtractField::Second,
                now::<String>()
            )))
            .expect("extract second")
            .scalar()
            .expect("second");
        assert!((0..60).contains(&second), "{}: {second}", b.name);
    }
}

#[test]
fn distinct_on_written_with_select_macro() {
    for b in backends("distinct_on_written_with_select_macro") {
        let mut conn = setup(&b);
        let first_per_color = select!(DISTINCT ON (User::hair_color) User::name FROM User
            ORDER BY User::hair_color, User::id);
        if !b.is_postgres() {
            assert!(
                matches!(
                    first_per_color.compile(b.engine.dialect()),
                    Err(quarry::Error::Unsupported { .. })
                ),
                "{}",
                b.name
            );
            continue;
        }
        let names: Vec<String> = conn
            .execute(first_per_color)
            .expect("distinct on")
            .all()
            .expect("rows");
        assert_eq!(names, ["ed", "sue", "mary"]);
    }
}

#[test]
fn delete_macro_through_an_alias() {
    for b in backends("delete_macro_through_an_alias") {
        let mut conn = setup(&b);
        let u = User::alias("u");
        // mary and sue: users without posts.
        let deleted = conn.execute(delete!(u WHERE u.col(User::id) > 2));
        if b.is_mysql() {
            // MySQL ≥ 8.0.16 takes an alias in a single-table DELETE; MariaDB does not.
            assert!(deleted.is_err(), "MariaDB refuses DELETE … AS");
            continue;
        }
        assert_eq!(deleted.expect("delete").rowcount(), 2, "{}", b.name);
        let left: Vec<String> = conn
            .execute(select!(User::name FROM User ORDER BY User::id))
            .expect("select")
            .all()
            .expect("rows");
        assert_eq!(left, ["ed", "wendy"], "{}", b.name);
    }
}
