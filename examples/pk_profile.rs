//! A primary-key lookup loop on SQLite, Quarry or the raw rusqlite it runs on, for an
//! instruction profile (issue 21; `benches/README.md` gives the figures):
//!
//! ```sh
//! cargo build --release --example pk_profile
//! valgrind --tool=callgrind target/release/examples/pk_profile quarry 20000
//! ```
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

fn quarry_lookups(n: i64) -> quarry::Result<usize> {
    let engine = create_engine("sqlite://")?;
    META.create_all(&engine)?;
    let mut conn = engine.connect()?;
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
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT)",
    )?;
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "quarry".into());
    let n: i64 = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let found = match mode.as_str() {
        "raw" => raw_lookups(n)?,
        _ => quarry_lookups(n)?,
    };
    println!("{mode}: {found} rows");
    Ok(())
}
