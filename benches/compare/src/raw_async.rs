//! The raw async drivers, the async baseline: `tokio-postgres` and `mysql_async` (the drivers
//! under Quarry's async engine, sqlx aside), statements prepared once per case and reused, rows
//! decoded by index — `raw.rs` on a tokio `current_thread` runtime. SQLite has no async driver
//! of its own: there `raw_async` is rusqlite on a thread of its own, each statement sent to it
//! as a closure over a channel and its result awaited on a oneshot — `raw.rs`'s statements
//! with one hop per statement, the floor of every thread-per-connection design.

use std::collections::HashMap;

use anyhow::{Context, Result};
use mysql_async::prelude::Queryable;

use crate::async_rt::runtime;
use crate::raw::{
    COMMENTS_ANY, COMMENTS_OF, JOIN_PG, JOIN_Q, POSTS_ANY, POSTS_OF, USER_BY_ID_PG, USER_BY_ID_Q,
    USERS, group_plain, in_list, insert_users_sql, my_post, my_user, new_users, pg_user,
    sqlite_user,
};
use crate::workload::{
    APPLICATION_NAME, Case, Comment, Contender, POSTS_PER_USER, Post, User, Workload,
    count_comments,
};

/// The statements of `case`, keyed by name, in the placeholder style `pg` says.
fn statements(case: &Case, pg: bool) -> Vec<(&'static str, String)> {
    let n = case.n;
    let q = |k: usize| {
        if pg {
            format!("${}", k + 1)
        } else {
            "?".into()
        }
    };
    match case.workload {
        Workload::TrivialQuery => vec![("users", USERS.into())],
        Workload::MediumComplexQuery => vec![("join", if pg { JOIN_PG } else { JOIN_Q }.into())],
        Workload::Insert => vec![("insert", insert_users_sql(n, q))],
        Workload::PkLookup => vec![(
            "by_id",
            if pg { USER_BY_ID_PG } else { USER_BY_ID_Q }.into(),
        )],
        Workload::LoadingAssociations if pg => vec![
            ("users", USERS.into()),
            ("posts", POSTS_ANY.into()),
            ("comments", COMMENTS_ANY.into()),
        ],
        Workload::LoadingAssociations => vec![
            ("users", USERS.into()),
            ("posts", in_list(POSTS_OF, n, q)),
            (
                "comments",
                in_list(COMMENTS_OF, n * POSTS_PER_USER, |_| "?".into()),
            ),
        ],
    }
}

// --- SQLite -------------------------------------------------------------------------------

type Job = Box<dyn FnOnce(&mut rusqlite::Connection) + Send>;

/// rusqlite on a thread of its own; the thread ends when the contender (its sender) is dropped.
pub struct SqliteThread {
    rt: tokio::runtime::Runtime,
    jobs: std::sync::mpsc::Sender<Job>,
}

pub fn sqlite() -> Result<Box<dyn Contender>> {
    let mut conn =
        rusqlite::Connection::open_in_memory().context("rusqlite: open memory database")?;
    conn.set_prepared_statement_cache_capacity(64);
    let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("raw_async sqlite".into())
        .spawn(move || {
            for job in inbox {
                job(&mut conn);
            }
        })
        .context("starting the SQLite thread")?;
    Ok(Box::new(SqliteThread {
        rt: runtime()?,
        jobs,
    }))
}

/// Run `f` on the connection's thread and await its result.
async fn on_thread<T: Send + 'static>(
    jobs: &std::sync::mpsc::Sender<Job>,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    jobs.send(Box::new(move |conn| {
        let _ = tx.send(f(conn));
    }))
    .ok()
    .context("the SQLite thread has ended")?;
    rx.await.context("the SQLite thread dropped a statement")?
}

fn sqlite_load<T: Send + 'static>(
    sql: String,
    ids: Vec<i64>,
    decode: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> impl FnOnce(&mut rusqlite::Connection) -> Result<Vec<T>> + Send + 'static {
    move |conn| {
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(&ids), decode)?
            .collect::<rusqlite::Result<Vec<T>>>()?;
        Ok(rows)
    }
}

impl Contender for SqliteThread {
    fn batch(&mut self, sql: &str) -> Result<()> {
        let sql = sql.to_owned();
        self.rt.block_on(on_thread(&self.jobs, move |conn| {
            Ok(conn.execute_batch(&sql)?)
        }))
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        let jobs = &self.jobs;
        let n = case.n;
        self.rt.block_on(async {
            match case.workload {
                Workload::TrivialQuery => {
                    let users =
                        on_thread(jobs, sqlite_load(USERS.into(), vec![], sqlite_user)).await?;
                    Ok(users.len())
                }
                Workload::MediumComplexQuery => {
                    let rows = on_thread(jobs, |conn| {
                        let mut stmt = conn.prepare_cached(JOIN_Q)?;
                        let rows = stmt
                            .query_map(["black"], |row| {
                                let post = match row.get::<_, Option<i64>>(3)? {
                                    Some(id) => Some(Post {
                                        id,
                                        user_id: row.get(4)?,
                                        title: row.get(5)?,
                                        body: row.get(6)?,
                                    }),
                                    None => None,
                                };
                                Ok((sqlite_user(row)?, post))
                            })?
                            .collect::<rusqlite::Result<Vec<(User, Option<Post>)>>>()?;
                        Ok(rows)
                    })
                    .await?;
                    Ok(rows.len())
                }
                Workload::Insert => {
                    let users = new_users(n);
                    on_thread(jobs, move |conn| {
                        let mut stmt = conn.prepare_cached(&insert_users_sql(n, |_| "?".into()))?;
                        let params: Vec<&dyn rusqlite::ToSql> = users
                            .iter()
                            .flat_map(|(name, hair)| [name as &dyn rusqlite::ToSql, hair as _])
                            .collect();
                        Ok(stmt.execute(params.as_slice())?)
                    })
                    .await
                }
                Workload::PkLookup => {
                    let mut found = 0;
                    for id in 1..=n as i64 {
                        let user = on_thread(jobs, move |conn| {
                            let mut stmt = conn.prepare_cached(USER_BY_ID_Q)?;
                            let mut rows = stmt.query([id])?;
                            Ok(match rows.next()? {
                                Some(row) => Some(sqlite_user(row)?),
                                None => None,
                            })
                        })
                        .await?;
                        if let Some(user) = user {
                            std::hint::black_box(user);
                            found += 1;
                        }
                    }
                    Ok(found)
                }
                Workload::LoadingAssociations => {
                    let users =
                        on_thread(jobs, sqlite_load(USERS.into(), vec![], sqlite_user)).await?;
                    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                    let sql = in_list(POSTS_OF, ids.len(), |_| "?".into());
                    let posts = on_thread(
                        jobs,
                        sqlite_load(sql, ids, |row| {
                            Ok(Post {
                                id: row.get(0)?,
                                user_id: row.get(1)?,
                                title: row.get(2)?,
                                body: row.get(3)?,
                            })
                        }),
                    )
                    .await?;
                    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                    let sql = in_list(COMMENTS_OF, ids.len(), |_| "?".into());
                    let comments = on_thread(
                        jobs,
                        sqlite_load(sql, ids, |row| {
                            Ok(Comment {
                                id: row.get(0)?,
                                post_id: row.get(1)?,
                                text: row.get(2)?,
                            })
                        }),
                    )
                    .await?;
                    Ok(count_comments(&group_plain(users, posts, comments)))
                }
            }
        })
    }
}

// --- PostgreSQL ---------------------------------------------------------------------------

/// `tokio-postgres`, its connection task spawned on the contender's runtime.
pub struct TokioPostgres {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    statements: HashMap<&'static str, tokio_postgres::Statement>,
}

pub fn postgres(url: &str) -> Result<Box<dyn Contender>> {
    let mut config: tokio_postgres::Config = url.parse().context("tokio-postgres: parse URL")?;
    config.application_name(APPLICATION_NAME);
    let rt = runtime()?;
    let client = rt.block_on(async {
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .context("tokio-postgres: connect")?;
        tokio::spawn(connection);
        anyhow::Ok(client)
    })?;
    Ok(Box::new(TokioPostgres {
        rt,
        client,
        statements: HashMap::new(),
    }))
}

impl TokioPostgres {
    fn statement(&self, key: &'static str) -> Result<tokio_postgres::Statement> {
        self.statements
            .get(key)
            .cloned()
            .with_context(|| format!("raw_async postgres: {key} was not prepared"))
    }
}

impl Contender for TokioPostgres {
    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.rt.block_on(self.client.batch_execute(sql))?)
    }

    fn prepare(&mut self, case: &Case) -> Result<()> {
        self.statements.clear();
        for (key, sql) in statements(case, true) {
            let stmt = self.rt.block_on(self.client.prepare(&sql))?;
            self.statements.insert(key, stmt);
        }
        Ok(())
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        let client = &self.client;
        let statements: Vec<tokio_postgres::Statement> = statements(case, true)
            .into_iter()
            .map(|(key, _)| self.statement(key))
            .collect::<Result<_>>()?;
        self.rt.block_on(async {
            let stmt = &statements[0];
            match case.workload {
                Workload::TrivialQuery => {
                    let users: Vec<User> =
                        client.query(stmt, &[]).await?.iter().map(pg_user).collect();
                    Ok(users.len())
                }
                Workload::MediumComplexQuery => {
                    let rows: Vec<(User, Option<Post>)> = client
                        .query(stmt, &[&"black"])
                        .await?
                        .iter()
                        .map(|row| {
                            let post = row.get::<_, Option<i64>>(3).map(|id| Post {
                                id,
                                user_id: row.get(4),
                                title: row.get(5),
                                body: row.get(6),
                            });
                            (pg_user(row), post)
                        })
                        .collect();
                    Ok(rows.len())
                }
                Workload::Insert => {
                    let users = new_users(case.n);
                    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = users
                        .iter()
                        .flat_map(|(name, hair)| {
                            [
                                name as &(dyn tokio_postgres::types::ToSql + Sync),
                                hair as _,
                            ]
                        })
                        .collect();
                    Ok(client.execute(stmt, &params).await? as usize)
                }
                Workload::PkLookup => {
                    let mut found = 0;
                    for id in 1..=case.n as i64 {
                        if let Some(row) = client.query_opt(stmt, &[&id]).await? {
                            std::hint::black_box(pg_user(&row));
                            found += 1;
                        }
                    }
                    Ok(found)
                }
                Workload::LoadingAssociations => {
                    let users: Vec<User> =
                        client.query(stmt, &[]).await?.iter().map(pg_user).collect();
                    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                    let posts: Vec<Post> = client
                        .query(&statements[1], &[&ids])
                        .await?
                        .iter()
                        .map(|row| Post {
                            id: row.get(0),
                            user_id: row.get(1),
                            title: row.get(2),
                            body: row.get(3),
                        })
                        .collect();
                    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                    let comments: Vec<Comment> = client
                        .query(&statements[2], &[&ids])
                        .await?
                        .iter()
                        .map(|row| Comment {
                            id: row.get(0),
                            post_id: row.get(1),
                            text: row.get(2),
                        })
                        .collect();
                    Ok(count_comments(&group_plain(users, posts, comments)))
                }
            }
        })
    }
}

// --- MySQL --------------------------------------------------------------------------------

/// `mysql_async` (binary protocol).
pub struct MysqlAsync {
    rt: tokio::runtime::Runtime,
    conn: mysql_async::Conn,
    statements: HashMap<&'static str, mysql_async::Statement>,
}

pub fn mysql(url: &str) -> Result<Box<dyn Contender>> {
    let opts = mysql_async::Opts::from_url(url).context("mysql_async: parse URL")?;
    let rt = runtime()?;
    let conn = rt
        .block_on(mysql_async::Conn::new(opts))
        .context("mysql_async: connect")?;
    Ok(Box::new(MysqlAsync {
        rt,
        conn,
        statements: HashMap::new(),
    }))
}

async fn my_load<T>(
    conn: &mut mysql_async::Conn,
    stmt: &mysql_async::Statement,
    params: mysql_async::Params,
    decode: impl Fn(&mysql_async::Row) -> Result<T>,
) -> Result<Vec<T>> {
    let rows: Vec<mysql_async::Row> = conn.exec(stmt, params).await?;
    rows.iter().map(decode).collect()
}

impl Contender for MysqlAsync {
    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.rt.block_on(self.conn.query_drop(sql))?)
    }

    fn prepare(&mut self, case: &Case) -> Result<()> {
        self.statements.clear();
        for (key, sql) in statements(case, false) {
            let stmt = self.rt.block_on(self.conn.prep(sql))?;
            self.statements.insert(key, stmt);
        }
        Ok(())
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        let statements: Vec<mysql_async::Statement> = statements(case, false)
            .into_iter()
            .map(|(key, _)| {
                self.statements
                    .get(key)
                    .cloned()
                    .with_context(|| format!("raw_async mysql: {key} was not prepared"))
            })
            .collect::<Result<_>>()?;
        let conn = &mut self.conn;
        self.rt.block_on(async {
            let stmt = &statements[0];
            match case.workload {
                Workload::TrivialQuery => {
                    Ok(my_load(conn, stmt, mysql_async::Params::Empty, my_user)
                        .await?
                        .len())
                }
                Workload::MediumComplexQuery => {
                    let rows = my_load(conn, stmt, ("black",).into(), |row| {
                        let post = match row.get_opt::<Option<i64>, _>(3).context("posts.id")?? {
                            Some(_) => Some(my_post(row, 3)?),
                            None => None,
                        };
                        Ok((my_user(row)?, post))
                    })
                    .await?;
                    Ok(rows.len())
                }
                Workload::Insert => {
                    let users = new_users(case.n);
                    let params: Vec<mysql_async::Value> = users
                        .iter()
                        .flat_map(|(name, hair)| [name.as_str().into(), (*hair).into()])
                        .collect();
                    conn.exec_drop(stmt, params).await?;
                    Ok(conn.affected_rows() as usize)
                }
                Workload::PkLookup => {
                    let mut found = 0;
                    for id in 1..=case.n as i64 {
                        let row: Option<mysql_async::Row> = conn.exec_first(stmt, (id,)).await?;
                        if let Some(row) = row {
                            std::hint::black_box(my_user(&row)?);
                            found += 1;
                        }
                    }
                    Ok(found)
                }
                Workload::LoadingAssociations => {
                    let users = my_load(conn, stmt, mysql_async::Params::Empty, my_user).await?;
                    let ids: Vec<mysql_async::Value> = users.iter().map(|u| u.id.into()).collect();
                    let posts =
                        my_load(conn, &statements[1], ids.into(), |row| my_post(row, 0)).await?;
                    let ids: Vec<mysql_async::Value> = posts.iter().map(|p| p.id.into()).collect();
                    let comments = my_load(conn, &statements[2], ids.into(), |row| {
                        Ok(Comment {
                            id: row.get_opt(0).context("comments.id")??,
                            post_id: row.get_opt(1).context("comments.post_id")??,
                            text: row.get_opt(2).context("comments.text")??,
                        })
                    })
                    .await?;
                    Ok(count_comments(&group_plain(users, posts, comments)))
                }
            }
        })
    }
}
