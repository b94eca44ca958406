//! sqlx 0.9 as its guide writes it without the compile-time macros (`query!` needs a live
//! database at build time): `sqlx::query(…).bind(…).fetch_all(&mut conn)` on one connection,
//! sqlx's own prepared-statement cache (on by default), rows decoded by index with
//! `Row::try_get`; lists as `IN (?, …)` built per call (SQLite, MySQL) or `= ANY($1)` with one
//! array (PostgreSQL), as raw does. On a tokio `current_thread` runtime of its own.

use anyhow::{Context, Result};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::async_rt::runtime;
use crate::raw::{
    COMMENTS_ANY, COMMENTS_OF, JOIN_PG, JOIN_Q, POSTS_ANY, POSTS_OF, USER_BY_ID_PG, USER_BY_ID_Q,
    USERS, group_plain, in_list, insert_users_sql, new_users,
};
use crate::workload::{
    APPLICATION_NAME, Case, Comment, Contender, Post, User, Workload, count_comments,
};

pub struct Sqlx<C> {
    rt: tokio::runtime::Runtime,
    conn: C,
}

pub fn sqlite() -> Result<Box<dyn Contender>> {
    let rt = runtime()?;
    let conn = rt
        .block_on(sqlx::SqliteConnection::connect("sqlite::memory:"))
        .context("sqlx: open sqlite memory database")?;
    Ok(Box::new(Sqlx { rt, conn }))
}

pub fn postgres(url: &str) -> Result<Box<dyn Contender>> {
    let options: sqlx::postgres::PgConnectOptions = url.parse().context("sqlx: parse URL")?;
    let options = options.application_name(APPLICATION_NAME);
    let rt = runtime()?;
    let conn = rt
        .block_on(sqlx::PgConnection::connect_with(&options))
        .context("sqlx: connect to postgres")?;
    Ok(Box::new(Sqlx { rt, conn }))
}

pub fn mysql(url: &str) -> Result<Box<dyn Contender>> {
    let rt = runtime()?;
    let conn = rt
        .block_on(sqlx::MySqlConnection::connect(url))
        .context("sqlx: connect to mysql")?;
    Ok(Box::new(Sqlx { rt, conn }))
}

type Query<DB> = sqlx::query::Query<'static, DB, <DB as sqlx::Database>::Arguments>;

/// `head` (`… IN (`) with one `?` per id, each bound: SQLite and MySQL.
macro_rules! ids_in_list {
    ($db:ty) => {
        |head: &str, _any: &'static str, ids: &[i64]| -> Query<$db> {
            let mut q = sqlx::query(AssertSqlSafe(in_list(head, ids.len(), |_| "?".into())));
            for id in ids {
                q = q.bind(*id);
            }
            q
        }
    };
}

/// PostgreSQL: `= ANY($1)`, the ids as one array.
fn pg_ids(_head: &str, any: &'static str, ids: &[i64]) -> Query<sqlx::Postgres> {
    sqlx::query(any).bind(ids.to_vec())
}

fn user<R: Row>(row: &R) -> Result<User>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(User {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        hair_color: row.try_get(2)?,
    })
}

fn post<R: Row>(row: &R, at: usize) -> Result<Post>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(Post {
        id: row.try_get(at)?,
        user_id: row.try_get(at + 1)?,
        title: row.try_get(at + 2)?,
        body: row.try_get(at + 3)?,
    })
}

fn comment<R: Row>(row: &R) -> Result<Comment>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(Comment {
        id: row.try_get(0)?,
        post_id: row.try_get(1)?,
        text: row.try_get(2)?,
    })
}

// sqlx's executor bounds for a generic connection cost more lines than the workloads: one
// body, stamped per connection (as `diesel.rs` does).
macro_rules! impl_contender {
    ($conn:ty, $db:ty, $ph:expr, $join:expr, $by_id:expr, $ids:expr) => {
        impl Contender for Sqlx<$conn> {
            fn batch(&mut self, sql: &str) -> Result<()> {
                self.rt.block_on(
                    sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut self.conn),
                )?;
                Ok(())
            }

            fn run(&mut self, case: &Case) -> Result<usize> {
                let conn = &mut self.conn;
                let ids = $ids;
                self.rt.block_on(async {
                    match case.workload {
                        Workload::TrivialQuery => {
                            let rows = sqlx::query(USERS).fetch_all(&mut *conn).await?;
                            let users = rows.iter().map(user).collect::<Result<Vec<User>>>()?;
                            Ok(users.len())
                        }
                        Workload::MediumComplexQuery => {
                            let rows = sqlx::query($join)
                                .bind("black")
                                .fetch_all(&mut *conn)
                                .await?;
                            let rows = rows
                                .iter()
                                .map(|row| {
                                    let post = match row.try_get::<Option<i64>, _>(3)? {
                                        Some(_) => Some(post(row, 3)?),
                                        None => None,
                                    };
                                    Ok((user(row)?, post))
                                })
                                .collect::<Result<Vec<(User, Option<Post>)>>>()?;
                            Ok(rows.len())
                        }
                        Workload::Insert => {
                            let users = new_users(case.n);
                            let mut q: Query<$db> =
                                sqlx::query(AssertSqlSafe(insert_users_sql(case.n, $ph)));
                            for (name, hair) in users {
                                q = q.bind(name).bind(hair);
                            }
                            Ok(q.execute(&mut *conn).await?.rows_affected() as usize)
                        }
                        Workload::PkLookup => {
                            let mut found = 0;
                            for id in 1..=case.n as i64 {
                                let row = sqlx::query($by_id)
                                    .bind(id)
                                    .fetch_optional(&mut *conn)
                                    .await?;
                                if let Some(row) = row {
                                    std::hint::black_box(user(&row)?);
                                    found += 1;
                                }
                            }
                            Ok(found)
                        }
                        Workload::LoadingAssociations => {
                            let rows = sqlx::query(USERS).fetch_all(&mut *conn).await?;
                            let users = rows.iter().map(user).collect::<Result<Vec<User>>>()?;
                            let user_ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                            let rows = ids(POSTS_OF, POSTS_ANY, &user_ids)
                                .fetch_all(&mut *conn)
                                .await?;
                            let posts = rows
                                .iter()
                                .map(|r| post(r, 0))
                                .collect::<Result<Vec<Post>>>()?;
                            let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                            let rows = ids(COMMENTS_OF, COMMENTS_ANY, &post_ids)
                                .fetch_all(&mut *conn)
                                .await?;
                            let comments =
                                rows.iter().map(comment).collect::<Result<Vec<Comment>>>()?;
                            Ok(count_comments(&group_plain(users, posts, comments)))
                        }
                    }
                })
            }
        }
    };
}

impl_contender!(
    sqlx::SqliteConnection,
    sqlx::Sqlite,
    |_| "?".into(),
    JOIN_Q,
    USER_BY_ID_Q,
    ids_in_list!(sqlx::Sqlite)
);
impl_contender!(
    sqlx::MySqlConnection,
    sqlx::MySql,
    |_| "?".into(),
    JOIN_Q,
    USER_BY_ID_Q,
    ids_in_list!(sqlx::MySql)
);
impl_contender!(
    sqlx::PgConnection,
    sqlx::Postgres,
    |k| format!("${}", k + 1),
    JOIN_PG,
    USER_BY_ID_PG,
    pg_ids
);
