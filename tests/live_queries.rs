//! Every statement form of the query language, run on every backend (SQLite, PostgreSQL,
//! MariaDB): the SQL that `tests/queries.rs` snapshots is accepted by a real database and
//! returns the rows the Rust types promise.

mod support;

use quarry::prelude::*;
use quarry::{Compile, SqlCache, all, exists, nullable};
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
    pub title: String,
    pub score: f64,
}

/// ed (black, no boss) with 2 posts, wendy (black, boss ed) with 1, mary (no color, boss ed)
/// with none.
fn setup(b: &Backend) -> Connection {
    let engine = &b.engine;
    META.create_all(engine).expect("create_all");
    let mut conn = engine.connect().expect("connect");
    for (name, color, boss) in [
        ("ed", Some("black"), None),
        ("wendy", Some("black"), Some(1)),
        ("mary", None, Some(1)),
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
fn select_lists_and_joins_decode_into_their_types() {
    for b in backends("select_lists_and_joins_decode_into_their") {
        let mut conn = setup(&b);
        let pairs: Vec<(i64, String)> = conn
            .execute(
                select!(User::id, User::name FROM User ORDER BY User::id DESC LIMIT 2 OFFSET 1),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(pairs, [(2, "wendy".to_owned()), (1, "ed".to_owned())]);

        let joined: Vec<(String, Option<String>)> = conn
        .execute(
            select!(User::name, Post::title FROM User LEFT JOIN Post ON Post::user_id == User::id
            ORDER BY User::id, Post::id),
        )
        .unwrap()
        .all()
        .unwrap();
        assert_eq!(joined.len(), 4);
        assert_eq!(joined[3], ("mary".to_owned(), None));

        let whole: Vec<(User, Option<Post>)> = conn
            .execute(
                select!(User, Post FROM User LEFT JOIN Post ON Post::user_id == User::id
            WHERE User::hair_color == None),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0].0.name, "mary");
        assert_eq!(whole[0].1, None);

        let inner: Vec<String> = conn
        .execute(select!(DISTINCT User::name FROM User JOIN Post ON Post::user_id == User::id ORDER BY User::name))
        .unwrap()
        .all()
        .unwrap();
        assert_eq!(inner, ["ed", "wendy"]);
    }
}

#[test]
fn aggregates_grouping_and_functions() {
    for b in backends("aggregates_grouping_and_functions") {
        let mut conn = setup(&b);
        let n: i64 = conn
            .execute(select!(count(*) FROM User))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 3);
        let (max, min, colored): (Option<i64>, Option<i64>, i64) = conn
            .execute(select!(max(User::id), min(User::id), count(User::hair_color) FROM User))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!((max, min, colored), (Some(3), Some(1), 2));
        let empty: Option<i64> = conn
            .execute(select!(max(User::id) FROM User WHERE User::id > 100))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(empty, None);

        let groups: Vec<(Option<String>, i64)> = conn
            .execute(select!(User::hair_color, count(User::id) FROM User
            GROUP BY User::hair_color HAVING count(User::id) > 1))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(groups, [(Some("black".to_owned()), 2)]);

        let texts: (String, String, String, i64) = conn
            .execute(
                select!(upper(User::name), lower(User::name), coalesce(User::hair_color, "none"),
            length(User::name) FROM User WHERE User::id == 3),
            )
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(texts, ("MARY".into(), "mary".into(), "none".into(), 4));

        let (total, average): (Option<f64>, Option<f64>) = conn
            .execute(select!(sum(Post::score), avg(Post::score) FROM Post))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!((total, average), (Some(8.0), Some(8.0 / 3.0)));
    }
}

#[test]
fn subqueries_exists_and_unions() {
    for b in backends("subqueries_exists_and_unions") {
        let mut conn = setup(&b);
        let authors: Vec<String> = conn
            .execute(select!(User::name FROM User
            WHERE User::id.in_(select!(Post::user_id FROM Post WHERE Post::score > 2.0))
            ORDER BY User::name))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(authors, ["ed", "wendy"]);

        let silent: Vec<String> = conn
        .execute(select!(User::name FROM User WHERE !exists(select!(Post WHERE Post::user_id == User::id))))
        .unwrap()
        .all()
        .unwrap();
        assert_eq!(silent, ["mary"]);

        let counts: Vec<(String, Option<i64>)> = conn
        .execute(select!(User::name,
            select!(count(Post::id) FROM Post WHERE Post::user_id == User::id) FROM User ORDER BY User::id))
        .unwrap()
        .all()
        .unwrap();
        assert_eq!(
            counts,
            [
                ("ed".into(), Some(2)),
                ("wendy".into(), Some(1)),
                ("mary".into(), Some(0))
            ]
        );

        let newest: String = conn
        .execute(
            select!(User::name FROM User WHERE User::id == select!(max(Post::user_id) FROM Post)),
        )
        .unwrap()
        .scalar()
        .unwrap();
        assert_eq!(newest, "wendy");

        let both: Vec<String> = conn
            .execute(
                select!(User::name FROM User WHERE User::id == 1)
                    .union_all(select!(User::name FROM User WHERE User::id == 1))
                    .union(select!(User::name FROM User WHERE User::id == 3))
                    .order_by(User::name),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(both, ["ed", "mary"]);

        let limited = conn
            .execute(select!(User::name FROM User LIMIT 1).union(select!(User::name FROM User)));
        if !b.is_sqlite() {
            // Parenthesized members may have their own LIMIT elsewhere.
            assert_eq!(limited.unwrap().all().unwrap().len(), 3, "{}", b.name);
            continue;
        }
        let err = limited.unwrap_err();
        assert!(
            matches!(
                err,
                quarry::Error::Unsupported {
                    dialect: "sqlite",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn aliases_arithmetic_and_builders() {
    for b in backends("aliases_arithmetic_and_builders") {
        let mut conn = setup(&b);
        let boss = User::alias("boss");
        let reports: Vec<(String, String)> = conn
            .execute(select!(User::name, boss.col(User::name) FROM User
            JOIN boss ON boss.col(User::id) == User::boss_id ORDER BY User::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(
            reports,
            [("wendy".into(), "ed".into()), ("mary".into(), "ed".into())]
        );

        let math: Vec<(i64, i64, i64, f64, String)> = conn
            .execute(
                select!(User::id * 10 + 1, 7 / User::id, -(User::id - 5), Post::score / 2.0,
            User::name + "!" FROM User JOIN Post ON Post::user_id == User::id WHERE User::id == 2),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(math, [(21, 3, 3, 2.0, "wendy!".into())]);

        let built: Vec<(User, Option<Post>)> = conn
            .execute(
                quarry::select((all::<User>(), nullable(all::<Post>())))
                    .left_join(Post::table(), Post::user_id.eq(User::id))
                    .filter(User::hair_color.is_null()),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(built.len(), 1);
        assert_eq!(built[0].1, None);

        // As in SQLAlchemy, a subquery whose every table the enclosing query already has would be
        // correlated down to no FROM at all: an error, not a guess.
        let err = conn
            .execute(
                quarry::select((all::<User>(), nullable(all::<Post>())))
                    .left_join(Post::table(), Post::user_id.eq(User::id))
                    .filter(exists(Post::select().filter(Post::user_id.eq(User::id))).not()),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("no table left in FROM"), "{err}");
    }
}

#[test]
fn returning_upserts_and_updates_from_expressions() {
    for b in backends("returning_upserts_and_updates_from_expre") {
        let mut conn = setup(&b);
        if b.is_mysql() {
            returning_on_mysql(&mut conn);
            continue;
        }
        let id: i64 = conn
            .execute(
                insert!(User {
                    name: "jack",
                    hair_color: None,
                    boss_id: None
                })
                .returning(User::id),
            )
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(id, 4);

        let changed: Vec<(i64, String)> = conn
            .execute(
                update!(User SET name = User::name + "?" WHERE User::id > 2)
                    .returning((User::id, User::name)),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(changed.len(), 2);
        assert!(changed.iter().all(|(_, n)| n.ends_with('?')));

        let upsert = |name: &str| {
            insert!(User {
                id: 1,
                name: name,
                hair_color: None,
                boss_id: None
            })
            .on_conflict(User::id)
            .do_update()
            .set_excluded(User::name)
            .returning(User::name)
        };
        let name: String = conn.execute(upsert("edward")).unwrap().scalar().unwrap();
        assert_eq!(name, "edward");
        let kept = conn
            .execute(
                insert!(User {
                    id: 1,
                    name: "x",
                    hair_color: None,
                    boss_id: None
                })
                .on_conflict(User::id)
                .do_nothing(),
            )
            .unwrap();
        assert_eq!(kept.rowcount(), 0);
        let still: String = conn
            .execute(select!(User::name FROM User WHERE User::id == 1))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(still, "edward");

        conn.execute(
        update!(User SET hair_color = select!(Post::title FROM Post WHERE Post::user_id == User::id
        ORDER BY Post::id LIMIT 1)),
    )
    .unwrap();
        let colors: Vec<Option<String>> = conn
            .execute(select!(User::hair_color FROM User ORDER BY User::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(
            colors,
            [Some("hello".into()), Some("hi".into()), None, None]
        );

        let gone: Vec<i64> = conn
            .execute(
                delete!(User WHERE !exists(select!(Post WHERE Post::user_id == User::id)))
                    .returning(User::id),
            )
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(gone, [3, 4]);
    }
}

/// MySQL has no RETURNING: the statements say so, and their plain forms do the work.
fn returning_on_mysql(conn: &mut Connection) {
    let insert = insert!(User {
        name: "jack",
        hair_color: None,
        boss_id: None
    });
    let err = conn
        .execute(insert.clone().returning(User::id))
        .unwrap_err();
    assert!(
        matches!(
            err,
            quarry::Error::Unsupported {
                dialect: "mysql",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(conn.execute(insert).unwrap().last_insert_id(), Some(4));
    let upsert = insert!(User {
        id: 1,
        name: "edward",
        hair_color: None,
        boss_id: None
    })
    .on_conflict(User::id)
    .do_update()
    .set_excluded(User::name);
    conn.execute(upsert).unwrap();
    conn.execute(
        insert!(User {
            id: 1,
            name: "x",
            hair_color: None,
            boss_id: None
        })
        .on_conflict(User::id)
        .do_nothing(),
    )
    .unwrap();
    let still: String = conn
        .execute(select!(User::name FROM User WHERE User::id == 1))
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(still, "edward");
    let gone = conn
        .execute(delete!(User WHERE !exists(select!(Post WHERE Post::user_id == User::id))))
        .unwrap();
    assert_eq!(gone.rowcount(), 2);
}

/// A `select!` whose values alone change is rendered once per call site and dialect; the text
/// comes from the call site's cache afterwards (counted by the cache itself).
#[test]
fn static_statements_render_once_per_call_site_and_dialect() {
    // The caches are per call site, so the count is only meaningful on one backend.
    for b in backends("render_once").into_iter().take(1) {
        let mut conn = setup(&b);
        let mut cache: Option<&'static SqlCache> = None;
        for id in 1..=3_i64 {
            let stmt = select!(User::name FROM User WHERE User::id == id && User::name != "nobody");
            cache = stmt.sql_cache();
            let name: String = conn.execute(&stmt).unwrap().scalar().unwrap();
            assert_eq!(
                name,
                ["ed", "wendy", "mary"][usize::try_from(id - 1).unwrap()]
            );
            // Other dialects get their own text, once each.
            stmt.compile(&quarry::dialect::Postgres).unwrap();
            let mysql = stmt.compile(&quarry::dialect::Mysql).unwrap();
            assert_eq!(mysql.params()[0], quarry::Value::I64(id));
        }
        let cache = cache.expect("select! attaches a cache");
        assert_eq!(cache.renders(), 3, "one render for each of three dialects");

        // A spliced expression that changes the statement's shape is noticed, never served stale.
        let mut seen = Vec::new();
        for ids in [vec![1_i64], vec![1, 2], vec![1, 2, 3]] {
            let stmt =
                select!(User::id FROM User WHERE User::id.in_(ids.clone()) ORDER BY User::id);
            let got: Vec<i64> = conn.execute(&stmt).unwrap().all().unwrap();
            assert_eq!(got, ids);
            seen.push(stmt.sql_cache().unwrap().renders());
        }
        assert_eq!(seen, [1, 2, 3], "each list length renders afresh");
    }
}

/// Identifiers with quotes, spaces, upper case and non-ASCII letters are quoted and escaped, so
/// the database sees exactly the declared names.
mod odd {
    use quarry::prelude::*;

    pub static ODD: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "we\"ird `tab` lé", metadata = ODD)]
    pub struct Odd {
        #[column(primary_key, name = "Order")]
        pub id: i64,
        #[column(name = "sp ace\"q")]
        pub spaced: String,
        #[column(name = "ünï")]
        pub unicode: Option<String>,
    }
}

#[test]
fn odd_identifiers_are_quoted_and_values_never_spliced() {
    use odd::{ODD, Odd};
    let engine = create_engine("sqlite://").unwrap();
    ODD.create_all(&engine).unwrap();
    let mut conn = engine.connect().unwrap();
    let evil = "x'); DROP TABLE users; --";
    conn.execute(insert!(Odd {
        spaced: evil,
        unicode: Some("ü")
    }))
    .unwrap();
    let back: Odd = conn
        .execute(select!(Odd WHERE Odd::spaced == evil && Odd::unicode.like("%ü%")))
        .unwrap()
        .one()
        .unwrap();
    assert_eq!(back.spaced, evil);
    let n: i64 = conn
        .execute(select!(count(Odd::id) FROM Odd GROUP BY Odd::unicode))
        .unwrap()
        .scalar()
        .unwrap();
    assert_eq!(n, 1);
    conn.execute(update!(Odd SET spaced = "ok" WHERE Odd::id == 1))
        .unwrap();
    drop(conn);
    assert!(ODD.tables()[0].exists(&engine).unwrap());
}
