//! A primary-key lookup loop on SQLite, Quarry or the raw rusqlite it runs on, for an
//! instruction profile (issue 21; `benches/README.md` gives the figures):
//!
//! ```sh
//! cargo build --release --example pk_profile
//! valgrind --tool=callgrind target/release/examples/pk_profile quarry 20000
//! ```
//!
//! `trivial` / `trivial-raw`: `SELECT` of a one-row table read with `all()` (the bench's
//! `trivial_query` at n=1); `insert` / `insert-raw`: a 100-row insert (`insert` at n=100);
//! `rows` / `rows-raw`: a 1,000-row table read whole (the per-row cost of `trivial_query`).
//!
//! With the cargo feature `mysql`, `mysql-quarry` / `mysql-raw` run a one-row `SELECT` on
//! MariaDB/MySQL instead (`QUARRY_MYSQL_URL`).
//!
//! Run it with two counts and divide the difference of the instruction totals by the
//! difference of the counts: what one lookup costs, setup left out.

use quarry::driver::native::rusqlite;
use quarry::prelude::*;

static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

/// A connection to a new memory database with the `users` table.
fn quarry_connection() -> quarry::Result<quarry::Connection> {
    let engine = create_engine("sqlite://")?;
    META.create_all(&engine)?;
    engine.connect()
}

/// The same with rusqlite.
fn raw_connection() -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT)",
    )?;
    Ok(conn)
}

/// The bench's decoding of a rusqlite row.
fn raw_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        hair_color: row.get(2)?,
    })
}

fn quarry_lookups(n: i64) -> quarry::Result<usize> {
    let mut conn = quarry_connection()?;
    let rows: Vec<User> = (1..=100)
        .map(|i| User {
            id: 0,
            name: format!("user {i}"),
            hair_color: Some("black".into()),
        })
        .collect();
    conn.execute(User::insert_many(&rows))?;
    let mut found = 0;
    for i in 0..n + 100 {
        let id = i % 100 + 1;
        let user: Option<User> = conn.execute(select!(User WHERE User::id == id))?.first()?;
        found += usize::from(std::hint::black_box(user).is_some());
    }
    Ok(found)
}

fn raw_lookups(n: i64) -> rusqlite::Result<usize> {
    let conn = raw_connection()?;
    for i in 1..=100 {
        conn.execute(
            "INSERT INTO users (name, hair_color) VALUES (?, 'black')",
            [format!("user {i}")],
        )?;
    }
    let mut found = 0;
    for i in 0..n + 100 {
        let id = i % 100 + 1;
        let mut stmt =
            conn.prepare_cached("SELECT id, name, hair_color FROM users WHERE id = ?")?;
        let mut rows = stmt.query([id])?;
        if let Some(row) = rows.next()? {
            let user = User {
                id: row.get(0)?,
                name: row.get(1)?,
                hair_color: row.get(2)?,
            };
            std::hint::black_box(user);
            found += 1;
        }
    }
    Ok(found)
}

/// `select!(User)` of a one-row table, read whole, `n` times: Quarry.
fn quarry_trivial(n: i64) -> quarry::Result<usize> {
    let mut conn = quarry_connection()?;
    conn.execute(insert!(User {
        name: "one",
        hair_color: Some("black")
    }))?;
    let mut found = 0;
    for _ in 0..n + 100 {
        let users: Vec<User> = conn.execute(select!(User))?.all()?;
        found += std::hint::black_box(users).len();
    }
    Ok(found)
}

/// The same with rusqlite (`prepare_cached`, `query_map`), as the bench's raw contender.
fn raw_trivial(n: i64) -> rusqlite::Result<usize> {
    let conn = raw_connection()?;
    conn.execute_batch("INSERT INTO users (name, hair_color) VALUES ('one', 'black')")?;
    raw_read_all(&conn, n + 100)
}

/// A 1,000-row table read whole `n / 1000` times (so that a count means rows): Quarry. What
/// a row costs, the statement's share made small.
fn quarry_rows(n: i64) -> quarry::Result<usize> {
    let mut conn = quarry_connection()?;
    for _ in 0..10 {
        conn.execute(User::insert_many(&new_users()))?;
    }
    let mut found = 0;
    for _ in 0..(n + 1000) / 1000 {
        let users: Vec<User> = conn.execute(select!(User))?.all()?;
        found += std::hint::black_box(users).len();
    }
    Ok(found)
}

/// The same with rusqlite.
fn raw_rows(n: i64) -> rusqlite::Result<usize> {
    let conn = raw_connection()?;
    for i in 0..1000 {
        conn.execute(
            "INSERT INTO users (name, hair_color) VALUES (?, 'brown')",
            [format!("new user {i}")],
        )?;
    }
    raw_read_all(&conn, (n + 1000) / 1000)
}

/// Read the whole `users` table `times` times with rusqlite: the rows read.
fn raw_read_all(conn: &rusqlite::Connection, times: i64) -> rusqlite::Result<usize> {
    let mut found = 0;
    for _ in 0..times {
        let mut stmt = conn.prepare_cached("SELECT id, name, hair_color FROM users")?;
        let users = stmt
            .query_map([], raw_user)?
            .collect::<rusqlite::Result<Vec<User>>>()?;
        found += std::hint::black_box(users).len();
    }
    Ok(found)
}

/// The bench's users to insert: 100 of them.
fn new_users() -> Vec<User> {
    (0..100)
        .map(|i| User {
            id: 0,
            name: format!("new user {i}"),
            hair_color: Some("brown".into()),
        })
        .collect()
}

/// `insert_many` of 100 users, `n / 100` times (so that a count means rows): Quarry.
fn quarry_insert(n: i64) -> quarry::Result<usize> {
    let mut conn = quarry_connection()?;
    let mut inserted = 0;
    for _ in 0..(n + 100) / 100 {
        let users = new_users();
        inserted += conn.execute(User::insert_many(&users))?.rowcount() as usize;
    }
    Ok(inserted)
}

/// The same with rusqlite: one cached 100-row `INSERT`.
fn raw_insert(n: i64) -> rusqlite::Result<usize> {
    let conn = raw_connection()?;
    let rows = vec!["(?, ?)"; 100].join(", ");
    let sql = format!("INSERT INTO users (name, hair_color) VALUES {rows}");
    let mut inserted = 0;
    for _ in 0..(n + 100) / 100 {
        let users = new_users();
        let mut stmt = conn.prepare_cached(&sql)?;
        let params: Vec<&dyn rusqlite::ToSql> = users
            .iter()
            .flat_map(|u| [&u.name as &dyn rusqlite::ToSql, &u.hair_color as _])
            .collect();
        inserted += stmt.execute(params.as_slice())?;
    }
    Ok(inserted)
}

#[cfg(feature = "mysql")]
static MY_META: MetaData = MetaData::new();

/// The MariaDB table: a name of its own beside the bench's `users`.
#[cfg(feature = "mysql")]
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "speed_profile_users", metadata = MY_META)]
struct MyUser {
    #[column(primary_key)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

/// `SELECT` of a one-row table on MariaDB/MySQL (`QUARRY_MYSQL_URL`), `n` times: Quarry.
#[cfg(feature = "mysql")]
fn mysql_quarry(url: &str, n: i64) -> quarry::Result<usize> {
    let engine = create_engine(url)?;
    let mut conn = engine.connect()?;
    conn.execute(text("DROP TABLE IF EXISTS speed_profile_users"))?;
    MY_META.create_all(&engine)?;
    conn.execute(insert!(MyUser {
        name: "one",
        hair_color: None
    }))?;
    let mut found = 0;
    for _ in 0..n + 100 {
        let users: Vec<MyUser> = conn.execute(select!(MyUser))?.all()?;
        found += std::hint::black_box(users).len();
    }
    Ok(found)
}

/// The same with the `mysql` crate, the statement prepared once.
#[cfg(feature = "mysql")]
fn mysql_raw(url: &str, n: i64) -> Result<usize, Box<dyn std::error::Error>> {
    use quarry::driver::native::mysql;
    use quarry::driver::native::mysql::prelude::Queryable;
    let mut conn = mysql::Conn::new(mysql::Opts::from_url(url)?)?;
    conn.query_drop("DROP TABLE IF EXISTS speed_profile_users")?;
    conn.query_drop(
        "CREATE TABLE speed_profile_users (id BIGINT AUTO_INCREMENT PRIMARY KEY, name TEXT NOT NULL, \
         hair_color TEXT)",
    )?;
    conn.query_drop("INSERT INTO speed_profile_users (name) VALUES ('one')")?;
    let stmt = conn.prep(
        "SELECT speed_profile_users.id, speed_profile_users.name, \
         speed_profile_users.hair_color FROM speed_profile_users",
    )?;
    let mut found = 0;
    for _ in 0..n + 100 {
        let mut users = Vec::new();
        for row in conn.exec_iter(&stmt, ())? {
            let row = row?;
            users.push(MyUser {
                id: row.get_opt(0).ok_or("id")??,
                name: row.get_opt(1).ok_or("name")??,
                hair_color: row.get_opt(2).ok_or("hair_color")??,
            });
        }
        found += std::hint::black_box(users).len();
    }
    Ok(found)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "quarry".into());
    let n: i64 = args.next().map_or(Ok(10_000), |a| a.parse())?;
    #[cfg(feature = "mysql")]
    let url = std::env::var("QUARRY_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let found = match mode.as_str() {
        "raw" => raw_lookups(n)?,
        "trivial" => quarry_trivial(n)?,
        "trivial-raw" => raw_trivial(n)?,
        "rows" => quarry_rows(n)?,
        "rows-raw" => raw_rows(n)?,
        "insert" => quarry_insert(n)?,
        "insert-raw" => raw_insert(n)?,
        #[cfg(feature = "mysql")]
        "mysql-raw" => mysql_raw(&url, n)?,
        #[cfg(feature = "mysql")]
        "mysql-quarry" => mysql_quarry(&url, n)?,
        _ => quarry_lookups(n)?,
    };
    println!("{mode}: {found} rows");
    Ok(())
}
