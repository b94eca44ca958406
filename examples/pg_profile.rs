//! `trivial_query` n = 10 000 on PostgreSQL for an instruction profile of the client side
//! (issue 21 item 7): Quarry on the `postgres` crate (`quarry`), Quarry on its lean driver
//! (`wire`, `postgresql+wire://`), or the raw `postgres` crate (`raw`).
//!
//! ```sh
//! cargo build --release --features postgres --example pg_profile
//! valgrind --tool=callgrind target/release/examples/pg_profile wire 5
//! valgrind --tool=callgrind target/release/examples/pg_profile wire 25
//! ```
//!
//! Divide the difference of the two instruction totals by the difference of the counts and by
//! 10 000: what one row costs, setup left out. The server is `QUARRY_POSTGRES_URL`'s; the
//! table, `pg_profile_users`, is made and filled on the first run.

use quarry::driver::native::postgres;
use quarry::prelude::*;

static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "pg_profile_users", metadata = META)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

const ROWS: i64 = 10_000;

fn base_url() -> String {
    std::env::var("QUARRY_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into())
}

/// The URL after its scheme: `user@host:port/db…`.
fn rest(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

fn setup() -> quarry::Result<()> {
    let engine = create_engine(&base_url())?;
    let mut conn = engine.connect()?;
    conn.execute(text(
        "CREATE TABLE IF NOT EXISTS pg_profile_users \
         (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT)",
    ))?;
    let n: i64 = conn
        .execute(text("SELECT count(*) FROM pg_profile_users").columns::<i64>())?
        .scalar()?;
    if n != ROWS {
        conn.execute(text("TRUNCATE pg_profile_users RESTART IDENTITY"))?;
        conn.execute(
            text(
                "INSERT INTO pg_profile_users (name, hair_color) \
                 SELECT 'user ' || g, 'black' FROM generate_series(1, :n) AS g",
            )
            .bind("n", ROWS),
        )?;
    }
    Ok(())
}

fn quarry_loop(url: &str, loops: usize) -> quarry::Result<usize> {
    let engine = create_engine(url)?;
    let mut conn = engine.connect()?;
    let mut total = 0;
    for _ in 0..loops {
        let users: Vec<User> = conn.execute(select!(User))?.all()?;
        total += std::hint::black_box(users).len();
    }
    Ok(total)
}

fn raw_loop(loops: usize) -> Result<usize, postgres::Error> {
    let url = format!("postgresql://{}", rest(&base_url()));
    let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
    let stmt = client.prepare("SELECT id, name, hair_color FROM pg_profile_users")?;
    let mut total = 0;
    for _ in 0..loops {
        let users: Vec<User> = client
            .query(&stmt, &[])?
            .iter()
            .map(|row| User {
                id: row.get(0),
                name: row.get(1),
                hair_color: row.get(2),
            })
            .collect();
        total += std::hint::black_box(users).len();
    }
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "wire".into());
    let loops: usize = args.next().map_or(Ok(10), |n| n.parse())?;
    setup()?;
    let url = rest(&base_url()).to_owned();
    let rows = match mode.as_str() {
        "quarry" => quarry_loop(&format!("postgresql://{url}"), loops)?,
        "wire" => quarry_loop(&format!("postgresql+wire://{url}"), loops)?,
        "raw" => raw_loop(loops)?,
        other => {
            return Err(format!("unknown mode {other:?}; expected quarry, wire or raw").into());
        }
    };
    println!("{mode}: {rows} rows");
    Ok(())
}
