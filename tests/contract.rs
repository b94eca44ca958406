//! `/work/shared/CONTRACT.md`, line by line: every example written as the contract writes it
//! (imports, signatures, `?`), compiled and run, with the behaviour the contract states.
//! SQL text is checked against what SQLAlchemy 2.x compiles for the same statement; runtime
//! behaviour on every backend of `tests/support` (each a database of its own, `q_contract_*`).

mod support;

use std::time::Duration;

use quarry::dialect::{Mysql, Postgres, Sqlite};
use quarry::prelude::*;
use support::{Backend, backends};

// --- Declaring tables, exactly as the contract writes them -------------------------------------

pub static META: MetaData = MetaData::new(); // const fn; interior mutability for the bind

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)] // name defaults to the snake_case struct name;
pub struct User {
    // metadata defaults to quarry::DEFAULT_METADATA
    #[column(primary_key)] // integer primary key = autoincrement
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>, // Option<T> = nullable
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id)] // FOREIGN KEY (user_id) REFERENCES users (id)
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

/// The other column attributes and every field type the contract names, in a metadata of its
/// own (so that `META.tables()` is the contract's two).
mod attrs {
    use quarry::prelude::*;

    pub static OTHER: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(metadata = OTHER)]
    pub struct ContractKind {
        #[column(primary_key)]
        pub id: i64,
        #[column(name = "label_text", unique, max_length = 20)]
        pub label: String,
        #[column(index)]
        pub a: i16,
        #[column(default = 7)]
        pub b: i32,
        #[column(sql_type = "DOUBLE PRECISION")]
        pub c: f64,
        pub d: f32,
        pub e: bool,
        pub f: Vec<u8>,
        pub oa: Option<i16>,
        pub ob: Option<i32>,
        pub oc: Option<i64>,
        pub od: Option<f32>,
        pub oe: Option<f64>,
        pub of: Option<bool>,
        pub og: Option<String>,
        pub oh: Option<Vec<u8>>,
    }

    /// No `metadata =`: it registers in `quarry::DEFAULT_METADATA`.
    #[derive(Table, Debug, Clone, PartialEq)]
    pub struct ContractDefaulted {
        #[column(primary_key)]
        pub id: i64,
    }
}

#[test]
fn the_derive_gives_table_columns_and_registration() {
    let t = User::table();
    assert_eq!(t.name(), "users");
    let names: Vec<&str> = t.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["id", "name", "hair_color"]);
    let posts = Post::table();
    assert_eq!(posts.foreign_keys().count(), 1);
    let tables: Vec<&str> = META.tables().iter().map(|t| t.name()).collect();
    assert_eq!(tables, ["users", "posts"], "parents before children");
    // Column handles are associated consts usable as expressions.
    let _id = User::id;
    let _name = User::name;
    let _hc = User::hair_color;
    // The table name defaults to the snake_case struct name, the metadata to DEFAULT_METADATA.
    assert_eq!(attrs::ContractKind::table().name(), "contract_kind");
    assert!(
        quarry::DEFAULT_METADATA
            .tables()
            .iter()
            .any(|t| t.name() == "contract_defaulted")
    );
    assert!(attrs::ContractKind::table().column("label_text").is_some());
}

// --- Statements: the SQL text SQLAlchemy 2.x compiles -------------------------------------------

/// The SQL with PostgreSQL's `$n` spelled `?`, for comparing with one expected text.
fn sql_of(stmt: &impl Compile, dialect: &dyn quarry::dialect::Dialect) -> String {
    let compiled = stmt.compile(dialect).expect("compiles");
    let mut out = String::new();
    let mut chars = compiled.sql().chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[track_caller]
fn same_everywhere(stmt: &impl Compile, sql: &str) {
    assert_eq!(sql_of(stmt, &Sqlite), sql, "sqlite");
    assert_eq!(sql_of(stmt, &Postgres), sql, "postgresql");
    assert_eq!(sql_of(stmt, &Mysql), sql, "mysql");
}

const USERS: &str = "SELECT users.id, users.name, users.hair_color FROM users";

#[test]
fn statement_macros_compile_as_sqlalchemy_does() {
    let name = "john";
    let s: Select<User> = select!(User);
    same_everywhere(&s, USERS);
    let s = select!(User WHERE User::name == name && User::id > 5);
    same_everywhere(
        &s,
        &format!("{USERS} WHERE users.name = ? AND users.id > ?"),
    );
    let compiled = s.compile(&Postgres).unwrap();
    assert_eq!(
        compiled.sql(),
        format!("{USERS} WHERE users.name = $1 AND users.id > $2")
    );
    assert_eq!(compiled.params().len(), 2, "binds `name` and 5");

    let s: Select<(i64, String)> =
        select!(User::id, User::name FROM User ORDER BY User::id DESC LIMIT 10 OFFSET 20);
    let head = "SELECT users.id, users.name FROM users ORDER BY users.id DESC";
    assert_eq!(sql_of(&s, &Sqlite), format!("{head} LIMIT ? OFFSET ?"));
    assert_eq!(sql_of(&s, &Postgres), format!("{head} LIMIT ? OFFSET ?"));
    assert_eq!(sql_of(&s, &Mysql), format!("{head} LIMIT ?, ?"));

    let s: Select<(User, Option<Post>)> = select!(User, Post FROM User LEFT JOIN Post ON Post::user_id == User::id
        WHERE User::hair_color == "black");
    same_everywhere(
        &s,
        "SELECT users.id, users.name, users.hair_color, posts.id AS id_1, posts.user_id, \
         posts.title, posts.body FROM users LEFT OUTER JOIN posts ON posts.user_id = users.id \
         WHERE users.hair_color = ?",
    );
    let s: Select<i64> = select!(count(User::id) FROM User);
    same_everywhere(&s, "SELECT count(users.id) AS count_1 FROM users");
    let s = select!(User::hair_color, count(User::id) FROM User GROUP BY User::hair_color
        HAVING count(User::id) > 1);
    same_everywhere(
        &s,
        "SELECT users.hair_color, count(users.id) AS count_1 FROM users \
         GROUP BY users.hair_color HAVING count(users.id) > ?",
    );
    let s = select!(User WHERE User::name.like("j%") && User::hair_color.is_null()
        && User::id.in_([1, 2, 3]) && User::id.between(1, 9));
    same_everywhere(
        &s,
        &format!(
            "{USERS} WHERE users.name LIKE ? AND users.hair_color IS NULL AND \
             users.id IN (?, ?, ?) AND users.id BETWEEN ? AND ?"
        ),
    );
    let s = select!(DISTINCT User::hair_color FROM User);
    same_everywhere(&s, "SELECT DISTINCT users.hair_color FROM users");
    let s = select!(max(User::id), min(User::id) FROM User);
    same_everywhere(
        &s,
        "SELECT max(users.id) AS max_1, min(users.id) AS min_1 FROM users",
    );
    let s =
        select!(User WHERE User::id.in_(select!(Post::user_id FROM Post WHERE Post::title == "t")));
    same_everywhere(
        &s,
        &format!(
            "{USERS} WHERE users.id IN (SELECT posts.user_id FROM posts WHERE posts.title = ?)"
        ),
    );
    let s = select!(User WHERE exists(select!(Post WHERE Post::user_id == User::id)));
    same_everywhere(
        &s,
        &format!(
            "{USERS} WHERE EXISTS (SELECT posts.id, posts.user_id, posts.title, posts.body \
             FROM posts WHERE posts.user_id = users.id)"
        ),
    );
    let s = select!(User::name FROM User JOIN Post ON Post::user_id == User::id);
    let join = "SELECT users.name FROM users JOIN posts ON posts.user_id = users.id";
    assert_eq!(sql_of(&s, &Sqlite), join);
    assert_eq!(sql_of(&s, &Postgres), join);
    assert_eq!(
        sql_of(&s, &Mysql),
        "SELECT users.name FROM users INNER JOIN posts ON posts.user_id = users.id"
    );
    let s = select!(User::name FROM User WHERE User::id == 1)
        .union_all(select!(User::name FROM User WHERE User::id == 2));
    same_everywhere(
        &s,
        "SELECT users.name FROM users WHERE users.id = ? UNION ALL \
         SELECT users.name FROM users WHERE users.id = ?",
    );
}

#[test]
fn dml_macros_compile_as_sqlalchemy_does() {
    let s = insert!(User {
        name: "john",
        hair_color: None
    });
    same_everywhere(&s, "INSERT INTO users (name, hair_color) VALUES (?, ?)");
    let s = insert!(User {
        name: "john",
        hair_color: None
    })
    .returning(User::id);
    assert_eq!(
        sql_of(&s, &Sqlite),
        "INSERT INTO users (name, hair_color) VALUES (?, ?) RETURNING id"
    );
    assert_eq!(
        sql_of(&s, &Postgres),
        "INSERT INTO users (name, hair_color) VALUES (?, ?) RETURNING users.id"
    );
    let s = update!(User SET name = "ed", hair_color = None WHERE User::id == 5);
    same_everywhere(
        &s,
        "UPDATE users SET name=?, hair_color=? WHERE users.id = ?",
    );
    let s = update!(User SET name = "ed" WHERE User::id == 5).returning((User::id, User::name));
    assert_eq!(
        sql_of(&s, &Sqlite),
        "UPDATE users SET name=? WHERE users.id = ? RETURNING id, name"
    );
    assert_eq!(
        sql_of(&s, &Postgres),
        "UPDATE users SET name=? WHERE users.id = ? RETURNING users.id, users.name"
    );
    let s = delete!(User WHERE User::id == 5);
    same_everywhere(&s, "DELETE FROM users WHERE users.id = ?");
}

#[test]
fn builders_say_the_same_without_macros() {
    let s = User::select()
        .filter(User::name.eq("john"))
        .order_by(User::id.desc())
        .limit(10);
    let head = format!("{USERS} WHERE users.name = ? ORDER BY users.id DESC");
    assert_eq!(sql_of(&s, &Postgres), format!("{head} LIMIT ?"));
    assert_eq!(sql_of(&s, &Mysql), format!("{head} LIMIT ?"));
    // Without a limit: SQLite `LIMIT -1 OFFSET ?`, as the contract pins it.
    let s = User::select().offset(20);
    assert_eq!(sql_of(&s, &Sqlite), format!("{USERS} LIMIT -1 OFFSET ?"));
    assert_eq!(
        s.compile(&Sqlite).unwrap().params(),
        [quarry::Value::I64(20)]
    );
    assert_eq!(
        sql_of(&s, &Mysql),
        format!("{USERS} LIMIT ?, 18446744073709551615")
    );
    let user = User {
        id: 0,
        name: "john".into(),
        hair_color: None,
    };
    same_everywhere(
        &User::insert(&user),
        "INSERT INTO users (name, hair_color) VALUES (?, ?)",
    );
    let users = vec![user.clone(), user.clone()];
    same_everywhere(
        &User::insert_many(&users),
        "INSERT INTO users (name, hair_color) VALUES (?, ?), (?, ?)",
    );
    same_everywhere(
        &User::update().set(User::name, "ed").filter(User::id.eq(5)),
        "UPDATE users SET name=? WHERE users.id = ?",
    );
    same_everywhere(
        &User::delete().filter(User::id.eq(5)),
        "DELETE FROM users WHERE users.id = ?",
    );
    let t = text("SELECT name FROM users WHERE id = :id").bind("id", 5);
    let compiled = t.compile(&Postgres).unwrap();
    assert_eq!(compiled.sql(), "SELECT name FROM users WHERE id = $1");
    assert_eq!(format!("{:?}", compiled.params()), "[5]");
}

/// SQLAlchemy's SQLite compiler follows a lone `LIMIT` with `OFFSET ?` bound to 0
/// (`sqlite/base.py`, `SQLiteCompiler.limit_clause`); so does Quarry.
#[test]
fn sqlite_lone_limit_is_followed_by_offset_zero() {
    let s = User::select()
        .filter(User::name.eq("john"))
        .order_by(User::id.desc())
        .limit(10);
    assert_eq!(
        sql_of(&s, &Sqlite),
        format!("{USERS} WHERE users.name = ? ORDER BY users.id DESC LIMIT ? OFFSET ?")
    );
    assert_eq!(
        s.compile(&Sqlite).unwrap().params(),
        [
            quarry::Value::Text("john".into()),
            quarry::Value::I64(10),
            quarry::Value::I64(0)
        ]
    );
}

#[test]
fn identifiers_are_quoted_only_when_needed() {
    mod odd {
        use quarry::prelude::*;
        pub static ODD: MetaData = MetaData::new();
        #[derive(Table, Debug, Clone, PartialEq)]
        #[table(name = "order", metadata = ODD)]
        pub struct Order {
            #[column(primary_key)]
            pub id: i64,
            #[column(name = "Select")]
            pub select: String,
        }
    }
    let s = select!(odd::Order);
    assert_eq!(
        sql_of(&s, &Sqlite),
        r#"SELECT "order".id, "order"."Select" FROM "order""#
    );
    assert_eq!(
        sql_of(&s, &Mysql),
        "SELECT `order`.id, `order`.`Select` FROM `order`"
    );
}

// --- Engines, connections, results, on every backend --------------------------------------------

fn fresh(tag: &str) -> Vec<Backend> {
    backends(&format!("contract_{tag}"))
}

/// Run a contract block on every backend, naming the backend where it fails.
fn on_every_backend(tag: &str, block: impl Fn(&Engine) -> quarry::Result<()>) {
    for b in fresh(tag) {
        block(&b.engine).unwrap_or_else(|e| panic!("{}: {e}", b.name));
    }
}

/// The contract's explicit-execution block, as a function returning `quarry::Result`.
fn explicit_execution(engine: &Engine) -> quarry::Result<()> {
    META.create_all(engine)?; // and drop_all; both check first
    META.create_all(engine)?;

    let mut conn = engine.connect()?; // explicit execution
    conn.execute(insert!(User {
        name: "john",
        hair_color: None
    }))?; // autocommits: no transaction open
    let users: Vec<User> = conn.execute(select!(User))?.all()?;
    assert_eq!(
        users,
        [User {
            id: 1,
            name: "john".into(),
            hair_color: None
        }]
    );
    let first: Option<User> = conn.execute(select!(User))?.first()?;
    assert_eq!(first.map(|u| u.id), Some(1));
    let n: i64 = conn.execute(select!(count(User::id) FROM User))?.scalar()?;
    assert_eq!(n, 1);
    let rows = conn.execute(text("SELECT name FROM users"))?; // Rows<Row>
    let mut names = Vec::new();
    for row in rows {
        let name: String = row?.get("name")?;
        names.push(name);
    }
    assert_eq!(names, ["john"]);
    drop(conn); // back to the pool, rolled back
    META.drop_all(engine)?;
    META.drop_all(engine)?;
    Ok(())
}

#[test]
fn explicit_execution_as_written() {
    on_every_backend("explicit", explicit_execution);
}

#[test]
fn create_engine_urls() -> quarry::Result<()> {
    let engine = create_engine("sqlite://")?; // memory
    let n: i64 = engine.connect()?.execute(text("SELECT 1"))?.scalar()?;
    assert_eq!(n, 1);
    let dir = std::env::temp_dir().join(format!("q_contract_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("abs.db");
    let engine = create_engine(&format!("sqlite:///{}", path.display()))?; // sqlite:////abs.db
    engine
        .connect()?
        .execute(text("CREATE TABLE t (x INTEGER)"))?;
    assert!(path.exists());
    engine.dispose();
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

#[test]
fn engine_builder_as_written() {
    for b in fresh("builder") {
        if b.name == "sqlite-memory" {
            continue; // a Queue pool for a memory database is refused, deliberately
        }
        let engine = Engine::builder(b.url.as_str()) // also mysql://, mariadb://
            .pool_size(5)
            .max_overflow(10)
            .pool_timeout(Duration::from_secs(30))
            .pool_recycle(Duration::from_secs(3600))
            .pool_pre_ping(true)
            .poolclass(PoolClass::Queue) // Queue | Null | Static | SingletonThread
            .echo(true)
            .isolation_level(if b.is_sqlite() {
                IsolationLevel::Serializable // SQLite has no READ COMMITTED (as SQLAlchemy)
            } else {
                IsolationLevel::ReadCommitted
            })
            .strategy(Strategy::Plain) // Plain | ThreadLocal
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        let mut conn = engine.connect().unwrap();
        let n: i64 = conn.execute(text("SELECT 1")).unwrap().scalar().unwrap();
        assert_eq!(n, 1, "{}", b.name);
        drop(conn);
        engine.dispose();
    }
}

#[test]
fn every_pool_class_builds_and_runs() {
    for b in fresh("poolclass") {
        for class in [
            PoolClass::Queue,
            PoolClass::Null,
            PoolClass::Static,
            PoolClass::SingletonThread,
        ] {
            if b.name == "sqlite-memory" && matches!(class, PoolClass::Queue | PoolClass::Null) {
                continue;
            }
            let engine = Engine::builder(b.url.as_str())
                .poolclass(class)
                .build()
                .unwrap();
            let n: i64 = engine
                .connect()
                .unwrap()
                .execute(text("SELECT 1"))
                .unwrap()
                .scalar()
                .unwrap();
            assert_eq!(n, 1, "{}", b.name);
            engine.dispose();
        }
    }
}

/// Insert a user named `name`, as the contract's insert does.
fn add(conn: &mut Connection, name: &str) -> quarry::Result<()> {
    conn.execute(insert!(User {
        name: name,
        hair_color: None
    }))?;
    Ok(())
}

/// `SELECT count(users.id) FROM users`.
fn users(conn: &mut Connection) -> quarry::Result<i64> {
    conn.execute(select!(count(User::id) FROM User))?.scalar()
}

fn transactions(engine: &Engine) -> quarry::Result<()> {
    META.create_all(engine)?;
    let mut conn = engine.connect()?;
    // Transaction derefs to Connection
    let mut tx = conn.begin()?;
    add(&mut tx, "a")?;
    tx.commit()?;
    {
        let mut tx = conn.begin()?;
        add(&mut tx, "b")?;
        // drop without commit = rollback
    }
    let n = users(&mut conn)?;
    assert_eq!(n, 1, "drop without commit rolls back");

    // Nesting: only the outermost commit commits.
    {
        let mut outer = conn.begin()?;
        add(&mut outer, "c")?;
        let inner = outer.begin()?;
        inner.commit()?;
        let n = users(&mut outer)?;
        assert_eq!(n, 2);
        outer.rollback()?;
    }
    let n = users(&mut conn)?;
    assert_eq!(n, 1, "the inner commit committed nothing");

    // Any rollback rolls back the whole; the outer commit then fails.
    let mut outer = conn.begin()?;
    add(&mut outer, "d")?;
    let inner = outer.begin()?;
    inner.rollback()?;
    let err = outer.commit().unwrap_err();
    assert!(matches!(err, Error::InactiveTransaction(_)), "{err}");
    let n = users(&mut conn)?;
    assert_eq!(n, 1);

    // SAVEPOINT
    let mut tx = conn.begin()?;
    add(&mut tx, "e")?;
    {
        let mut sp = tx.begin_nested()?;
        add(&mut sp, "f")?;
        sp.rollback()?;
    }
    add(&mut tx, "g")?;
    tx.commit()?;
    let names: Vec<String> = conn
        .execute(select!(User::name FROM User ORDER BY User::id))?
        .all()?;
    assert_eq!(names, ["a", "e", "g"]);
    let sp = conn.begin_nested()?; // SAVEPOINT
    drop(sp);

    engine.transaction(|conn| {
        add(conn, "h")?;
        Ok(())
    })?;
    let failed: quarry::Result<()> = engine.transaction(|conn| {
        add(conn, "i")?;
        Err(Error::InactiveTransaction("test".into()))
    });
    assert!(failed.is_err());
    let n = users(&mut conn)?;
    assert_eq!(n, 4, "commit on Ok, rollback on Err");
    drop(conn);
    Ok(())
}

#[test]
fn transactions_as_written() {
    on_every_backend("tx", transactions);
}

#[test]
fn connectionless_results_own_their_connection() {
    for b in fresh("connectionless") {
        if b.name == "sqlite-memory" {
            continue; // one shared connection
        }
        let engine = Engine::builder(b.url.as_str())
            .pool_size(1)
            .max_overflow(0)
            .pool_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        META.create_all(&engine).unwrap();
        let users: Vec<User> = engine.execute(select!(User)).unwrap().all().unwrap();
        assert!(users.is_empty());
        engine
            .execute(insert!(User {
                name: "a",
                hair_color: None
            }))
            .unwrap();
        engine
            .execute(insert!(User {
                name: "b",
                hair_color: None
            }))
            .unwrap();
        let mut rows = engine.execute(select!(User)).unwrap();
        assert!(rows.next().is_some());
        let err = engine.connect().map(|_| ()).unwrap_err();
        assert!(
            err.to_string()
                .contains("pool limit of size 1 overflow 0 reached, connection timed out"),
            "{}: {err}",
            b.name
        );
        drop(rows);
        assert!(
            engine.connect().is_ok(),
            "{}: dropped rows return it",
            b.name
        );
        engine.dispose();
    }
}

#[test]
fn pool_timeout_message_as_stated() {
    for b in fresh("timeout") {
        if b.is_sqlite() {
            continue;
        }
        // The contract's `timeout 30s`, with 1 s so that the test does not wait 30 s.
        let engine = Engine::builder(b.url.as_str())
            .pool_size(5)
            .max_overflow(10)
            .pool_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let held: Vec<Connection> = (0..15).map(|_| engine.connect().unwrap()).collect();
        let err = engine.connect().map(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pool limit of size 5 overflow 10 reached, connection timed out, timeout 1s",
            "{}",
            b.name
        );
        drop(held);
        engine.dispose();
    }
}

#[test]
fn rows_api() {
    for b in fresh("rows") {
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        for name in ["a", "b", "c"] {
            conn.execute(insert!(User {
                name: name,
                hair_color: None
            }))
            .unwrap();
        }
        let upd = conn
            .execute(update!(User SET hair_color = "red" WHERE User::id > 1))
            .unwrap();
        assert_eq!(upd.rowcount(), 2, "{}", b.name);
        let mut rows = conn
            .execute(select!(User::id, User::name FROM User ORDER BY User::id))
            .unwrap();
        assert_eq!(rows.keys(), ["id", "name"], "{}", b.name);
        let two = rows.fetchmany(2).unwrap();
        assert_eq!(two, [(1, "a".to_string()), (2, "b".to_string())]);
        rows.close();
        let one: User = conn
            .execute(select!(User WHERE User::id == 1))
            .unwrap()
            .one()
            .unwrap();
        assert_eq!(one.name, "a");
        assert!(
            conn.execute(select!(User)).unwrap().one().is_err(),
            "one() of three rows"
        );
        let none: Option<User> = conn
            .execute(select!(User WHERE User::id == 9))
            .unwrap()
            .one_or_none()
            .unwrap();
        assert_eq!(none, None);
        let n: i64 = conn
            .execute(text("SELECT count(*) FROM users"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 3, "{}", b.name);
        let rows = conn
            .execute(select!(User::id FROM User WHERE User::id == 9))
            .unwrap();
        let maybe: Option<i64> = rows.scalar_one_or_none().unwrap(); // None when there is no row
        assert_eq!(maybe, None);
    }
}

#[test]
fn database_errors_carry_the_sql() {
    for b in fresh("errors") {
        META.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        let err = conn
            .execute(text("SELECT nope FROM users WHERE id = :id").bind("id", 5))
            .map(|_| ())
            .unwrap_err();
        match &err {
            Error::Database(db) => {
                assert!(
                    db.sql().is_some_and(|s| s.contains("SELECT nope")),
                    "{}",
                    b.name
                );
                assert!(!db.is_disconnect(), "{}", b.name);
                assert_eq!(format!("{:?}", db.params()), "[5]", "{}", b.name);
                assert!(
                    !err.to_string().contains("5]"),
                    "{}: values never printed",
                    b.name
                );
            }
            other => panic!("{}: {other:?}", b.name),
        }
        assert!(!err.is_retryable());
    }
}

/// `engine.transaction(|conn| -> Result<T, MyError> { ... })`: any `E: From<quarry::Error>`.
#[derive(Debug)]
enum MyError {
    Db(#[allow(dead_code)] quarry::Error),
    Mine,
}

impl From<quarry::Error> for MyError {
    fn from(e: quarry::Error) -> Self {
        MyError::Db(e)
    }
}

#[test]
fn transaction_with_own_error_type() {
    for b in fresh("myerror") {
        META.create_all(&b.engine).unwrap();
        let r = b.engine.transaction(|conn| -> Result<i64, MyError> {
            conn.execute(insert!(User {
                name: "x",
                hair_color: None
            }))?;
            Err(MyError::Mine)
        });
        assert!(matches!(r, Err(MyError::Mine)));
        let r = b.engine.transaction(|conn| -> Result<i64, MyError> {
            Ok(conn.execute(select!(count(User::id) FROM User))?.scalar()?)
        });
        assert!(matches!(r, Ok(0)), "{}: rolled back", b.name);
        let r = b.engine.transaction(|conn| -> Result<i64, MyError> {
            Ok(conn.execute(text("SELECT nope"))?.scalar()?)
        });
        assert!(matches!(r, Err(MyError::Db(_))));
    }
}

/// The contract's `users` in a `META` of the module it is called in (for tests that bind it).
macro_rules! users_of_own_metadata {
    () => {
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
    };
}

/// The bound-metadata lines, in a metadata of their own: binding the shared `META` would reach
/// other tests running at the same time.
mod bound {
    use quarry::prelude::*;

    users_of_own_metadata!();

    pub fn implicit(engine: &Engine) -> quarry::Result<()> {
        META.create_all(engine)?;
        META.bind(engine); // bound metadata
        insert!(User {
            name: "a",
            hair_color: None
        })
        .execute()?;
        let users: Vec<User> = select!(User).execute()?.all()?; // implicit execution
        let _: Vec<i64> = select!(User::id FROM User).execute()?.all()?;
        assert_eq!(users.len(), 1);
        let raw = engine.raw_connection()?; // driver connection, pooled; back on drop
        drop(raw);
        Ok(())
    }
}

#[test]
fn bound_metadata_and_implicit_execution() {
    on_every_backend("bound", bound::implicit);
}

// --- Thread-local strategy and Session --------------------------------------------------------

mod tl {
    use quarry::prelude::*;

    users_of_own_metadata!();

    pub fn thread_local(url: &str) -> quarry::Result<i64> {
        let engine = Engine::builder(url)
            .strategy(Strategy::ThreadLocal)
            .build()?;
        META.create_all(&engine)?;
        META.bind(&engine);
        let tx = engine.begin()?; // binds a transaction to this thread
        engine.execute(insert!(User {
            name: "a",
            hair_color: None
        }))?; // joins it
        select!(User).execute()?; // implicit execution joins it too
        let mut log = engine.connect()?; // outside the thread's transaction
        let outside: i64 = log.execute(select!(count(User::id) FROM User))?.scalar()?;
        let mut ctx = engine.contextual_connect()?; // inside it; released when all are done
        let inside: i64 = ctx.execute(select!(count(User::id) FROM User))?.scalar()?;
        assert_eq!(inside, 1);
        drop(ctx);
        drop(log);
        tx.rollback()?; // or rollback(); drop = rollback
        let after: i64 = engine
            .connect()?
            .execute(select!(count(User::id) FROM User))?
            .scalar()?;
        assert_eq!(after, 0);
        engine.dispose();
        Ok(outside)
    }
}

#[test]
fn thread_local_strategy_as_written() {
    for b in fresh("tl") {
        if b.name == "sqlite-memory" {
            continue; // one connection: there is no "outside"
        }
        let outside = tl::thread_local(&b.url).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert_eq!(outside, 0, "{}", b.name);
    }
}

fn session_as_written(engine: &Engine) -> quarry::Result<()> {
    META.create_all(engine)?;
    let mut session = Session::new(engine); // or sessionmaker(&engine).session()
    session.add(User {
        id: 0,
        name: "ed".into(),
        hair_color: None,
    }); // autoincrement key filled on flush
    session.add(Post {
        id: 0,
        user_id: 1,
        title: "t".into(),
        body: None,
    });
    session.flush()?; // parents before children
    let ed: Option<User> = session.get::<User>(1)?; // identity map
    assert_eq!(ed.as_ref().map(|u| u.name.as_str()), Some("ed"));
    session.rollback()?;
    let mut session = sessionmaker(engine).session();
    session.add(User {
        id: 0,
        name: "ed".into(),
        hair_color: None,
    });
    session.commit()?;
    let id: i64 = engine
        .connect()?
        .execute(select!(User::id FROM User WHERE User::name == "ed"))?
        .scalar()?;
    let ed: Option<User> = session.get::<User>(id)?;
    session.delete(&ed.unwrap());
    session.commit()?; // or rollback(); close() returns the connection
    let raw = session.connection()?.driver_connection(); // down to the native driver
    assert!(raw.is_ok());
    session.close();
    let n: i64 = engine
        .connect()?
        .execute(select!(count(User::id) FROM User))?
        .scalar()?;
    assert_eq!(n, 0);
    Ok(())
}

#[test]
fn session_as_written_runs() {
    on_every_backend("session", session_as_written);
}

// --- Second round -----------------------------------------------------------------------------

#[derive(SqlEnum, Debug, Clone, Copy, PartialEq)] // stored as text by default,
enum LoanStatus {
    Active,
    Returned,
    Lost,
}

mod loans {
    use super::LoanStatus;
    use quarry::prelude::*;

    pub static LOANS: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "contract_loans", metadata = LOANS)]
    pub struct Loan {
        #[column(primary_key)]
        pub id: i64,
        pub status: LoanStatus,
        pub previous: Option<LoanStatus>,
    }
}

#[test]
fn enums_are_columns_and_filters() {
    use loans::{LOANS, Loan};
    for b in fresh("enums") {
        LOANS.create_all(&b.engine).unwrap();
        let mut conn = b.engine.connect().unwrap();
        conn.execute(insert!(Loan {
            status: LoanStatus::Lost,
            previous: Some(LoanStatus::Active)
        }))
        .unwrap();
        conn.execute(insert!(Loan {
            status: LoanStatus::Returned,
            previous: None
        }))
        .unwrap();
        let lost: Vec<Loan> = conn
            .execute(select!(Loan WHERE Loan::status == LoanStatus::Lost))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(lost.len(), 1, "{}", b.name);
        assert_eq!(lost[0].previous, Some(LoanStatus::Active));
        let raw: String = conn
            .execute(text("SELECT status FROM contract_loans WHERE id = 2"))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(raw, "Returned", "{}: stored as text", b.name);
    }
}

#[test]
fn more_sql_compiles() {
    let s = select!(User FOR UPDATE SKIP LOCKED);
    assert_eq!(
        sql_of(&s, &Postgres),
        format!("{USERS} FOR UPDATE SKIP LOCKED")
    );
    assert_eq!(
        sql_of(&s, &Mysql),
        format!("{USERS} FOR UPDATE SKIP LOCKED")
    );
    assert_eq!(sql_of(&s, &Sqlite), USERS);
    let s = User::select().for_update().skip_locked();
    assert_eq!(
        sql_of(&s, &Postgres),
        format!("{USERS} FOR UPDATE SKIP LOCKED")
    );
    let s = select!(User::name, row_number().over(partition_by(User::hair_color).order_by(User::id)) FROM User);
    same_everywhere(
        &s,
        "SELECT users.name, row_number() OVER (PARTITION BY users.hair_color \
         ORDER BY users.id) AS anon_1 FROM users",
    );
    let s =
        select!(case_when(User::id > 5, "big").else_("small"), cast::<i64>(User::name) FROM User);
    assert_eq!(
        sql_of(&s, &Sqlite),
        "SELECT CASE WHEN (users.id > ?) THEN ? ELSE ? END AS anon_1, \
         CAST(users.name AS BIGINT) AS name FROM users"
    );
    assert_eq!(
        sql_of(&s, &Mysql),
        "SELECT CASE WHEN (users.id > ?) THEN ? ELSE ? END AS anon_1, \
         CAST(users.name AS SIGNED INTEGER) AS name FROM users"
    );
    let e = quarry::func::call::<i64>("abs", (User::id,));
    let s = select!(e FROM User);
    same_everywhere(&s, "SELECT abs(users.id) AS abs_1 FROM users");
    let recent =
        select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("recent");
    let n: quarry::Expr<i64> = recent.column("count_1").expect("count_1");
    let s = select!(User::name, n FROM User JOIN recent ON recent.col(Post::user_id) == User::id);
    let with = "WITH recent AS (SELECT posts.user_id AS user_id, count(posts.id) AS count_1 \
                FROM posts GROUP BY posts.user_id) SELECT users.name, recent.count_1 FROM users";
    let on = "recent ON recent.user_id = users.id";
    assert_eq!(sql_of(&s, &Sqlite), format!("{with} JOIN {on}"));
    assert_eq!(sql_of(&s, &Postgres), format!("{with} JOIN {on}"));
    assert_eq!(sql_of(&s, &Mysql), format!("{with} INNER JOIN {on}"));
}

#[test]
fn reflection_and_migration_entry_points() {
    for b in fresh("reflect") {
        META.create_all(&b.engine).unwrap();
        let engine = &b.engine;
        let live = quarry::reflect(engine).unwrap(); // the database's tables as TableDefs
        let users = live.table("users").unwrap(); // usable in statements -> Rows<Row>
        assert!(users.def().column("hair_color").is_some(), "{}", b.name);
        let plan = quarry::migrate::diff(&META, engine).unwrap(); // declared vs live: Vec of Op
        let sql = plan.sql(engine.dialect()).unwrap();
        assert!(sql.is_empty(), "{}: nothing to do, got {sql:?}", b.name);
        assert!(
            engine
                .transaction_with_retry(RetryPolicy::default(), |conn| {
                    conn.execute(select!(count(User::id) FROM User))?
                        .scalar::<i64>()
                })
                .is_ok_and(|n| n == 0)
        );
    }
}

// --- Async (cargo feature `tokio`) ------------------------------------------------------------

#[cfg(feature = "tokio")]
mod asynchronous {
    use super::{META, User};
    use quarry::prelude::*;

    async fn as_written(url: &str) -> quarry::Result<()> {
        use quarry::asyncio::{AsyncEngine, create_async_engine};
        let engine: AsyncEngine = create_async_engine(url).await?;
        let mut conn = engine.connect().await?;
        conn.execute(insert!(User {
            name: "ed",
            hair_color: None
        }))
        .await?;
        let users: Vec<User> = conn.execute(select!(User)).await?.all();
        assert_eq!(users.len(), 1);
        let mut stream = conn.stream(select!(User)).await?; // futures::Stream of Result<User>
        let first = stream.next().await.expect("a row")?;
        assert_eq!(first.name, "ed");
        drop(stream);
        let tx = conn.begin().await?;
        tx.commit().await?; // also begin_nested
        drop(conn);
        engine
            .transaction(async |conn| {
                conn.execute(insert!(User {
                    name: "x",
                    hair_color: None
                }))
                .await?;
                Ok(())
            })
            .await?;
        let failed: quarry::Result<()> = engine
            .transaction(async |conn| {
                conn.execute(insert!(User {
                    name: "y",
                    hair_color: None
                }))
                .await?;
                Err(Error::InactiveTransaction("test".into()))
            })
            .await;
        assert!(failed.is_err());
        let mut conn = engine.connect().await?;
        let names: Vec<String> = conn
            .execute(select!(User::name FROM User ORDER BY User::id))
            .await?
            .all();
        assert_eq!(names, ["ed", "x"], "commit on Ok, rollback on Err");
        drop(conn);
        let _session = quarry::asyncio::AsyncSession::new(&engine);
        engine.dispose().await;
        Ok(())
    }

    /// The backends are made and cleaned up by the blocking engine, so outside the runtime.
    #[test]
    fn async_section_as_written() {
        for b in super::fresh("async") {
            if b.name == "sqlite-memory" {
                continue; // each async connection would be a new, empty database
            }
            META.create_all(&b.engine).unwrap();
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime
                .block_on(as_written(&b.url))
                .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        }
    }
}
