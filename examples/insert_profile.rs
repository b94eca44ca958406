//! A 100-row `insert_many` loop on PostgreSQL or MariaDB, Quarry or the raw driver it runs
//! on, for an instruction profile of the client (issue 21; the bench's `insert` cell):
//!
//! ```sh
//! cargo build --release --example insert_profile --features postgres,mysql
//! valgrind --tool=callgrind target/release/examples/insert_profile pg-quarry 200
//! ```
//!
//! Modes: `pg-quarry`, `pg-raw` (`QUARRY_POSTGRES_URL`), `mysql-quarry`, `mysql-raw`
//! (`QUARRY_MYSQL_URL`). Run with two counts and divide the difference of the instruction
//! totals by the difference of the counts: what one 100-row insert costs, setup left out.

use quarry::prelude::*;

static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "insert_profile_users", metadata = META)]
struct User {
    #[column(primary_key)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

const ROWS: usize = 100;

fn users() -> Vec<User> {
    (0..ROWS)
        .map(|i| User {
            id: 0,
            name: format!("user {i}"),
            hair_color: Some("black".into()),
        })
        .collect()
}

fn quarry_inserts(url: &str, n: usize) -> quarry::Result<u64> {
    let engine = create_engine(url)?;
    let mut conn = engine.connect()?;
    conn.execute(text("DROP TABLE IF EXISTS insert_profile_users"))?;
    META.create_all(&engine)?;
    let mut total = 0;
    for _ in 0..n {
        let users = users();
        total += conn.execute(User::insert_many(&users))?.rowcount();
    }
    Ok(total)
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn sql(placeholder: impl Fn(usize) -> String) -> String {
    let rows: Vec<String> = (0..ROWS)
        .map(|i| format!("({}, {})", placeholder(2 * i + 1), placeholder(2 * i + 2)))
        .collect();
    format!(
        "INSERT INTO insert_profile_users (name, hair_color) VALUES {}",
        rows.join(", ")
    )
}

#[cfg(feature = "postgres")]
fn pg_raw(url: &str, n: usize) -> Result<u64, Box<dyn std::error::Error>> {
    use quarry::driver::native::postgres;
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(
        "DROP TABLE IF EXISTS insert_profile_users; CREATE TABLE insert_profile_users \
         (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT)",
    )?;
    let stmt = client.prepare(&sql(|i| format!("${i}")))?;
    let mut total = 0;
    for _ in 0..n {
        let users = users();
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = users
            .iter()
            .flat_map(|u| {
                [
                    &u.name as &(dyn postgres::types::ToSql + Sync),
                    &u.hair_color as _,
                ]
            })
            .collect();
        total += client.execute(&stmt, &params)?;
    }
    Ok(total)
}

#[cfg(feature = "mysql")]
fn mysql_raw(url: &str, n: usize) -> Result<u64, Box<dyn std::error::Error>> {
    use quarry::driver::native::mysql;
    use quarry::driver::native::mysql::prelude::Queryable;
    let mut conn = mysql::Conn::new(mysql::Opts::from_url(url)?)?;
    conn.query_drop("DROP TABLE IF EXISTS insert_profile_users")?;
    conn.query_drop(
        "CREATE TABLE insert_profile_users (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
         name TEXT NOT NULL, hair_color TEXT)",
    )?;
    let stmt = conn.prep(sql(|_| "?".into()))?;
    let mut total = 0;
    for _ in 0..n {
        let params: Vec<mysql::Value> = users()
            .into_iter()
            .flat_map(|u| [u.name.into(), u.hair_color.into()])
            .collect();
        conn.exec_drop(&stmt, params)?;
        total += conn.affected_rows();
    }
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "pg-quarry".into());
    let n: usize = args.next().map_or(Ok(200), |s| s.parse())?;
    let pg = std::env::var("QUARRY_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into());
    let my = std::env::var("QUARRY_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let total = match mode.as_str() {
        "pg-quarry" => quarry_inserts(&pg, n)?,
        "mysql-quarry" => quarry_inserts(&my, n)?,
        #[cfg(feature = "postgres")]
        "pg-raw" => pg_raw(&pg, n)?,
        #[cfg(feature = "mysql")]
        "mysql-raw" => mysql_raw(&my, n)?,
        other => return Err(format!("unknown mode {other:?} (or its feature is off)").into()),
    };
    println!("{mode}: {total} rows inserted");
    Ok(())
}
