//! The raw drivers, the baseline: rusqlite with `prepare_cached`, `postgres` and `mysql` with
//! statements prepared once per case and reused. Rows are decoded by index.

use std::collections::HashMap;

use anyhow::{Context, Result};

use crate::workload::{
    APPLICATION_NAME, Case, Comment, Contender, Grouped, NEW_USER_HAIR, Post, User, Workload,
    count_comments, group, new_user_name,
};

pub const USERS: &str = "SELECT id, name, hair_color FROM users";
macro_rules! user_by_id {
    ($p:literal) => {
        concat!("SELECT id, name, hair_color FROM users WHERE id = ", $p)
    };
}
macro_rules! join {
    ($p:literal) => {
        concat!(
            "SELECT users.id, users.name, users.hair_color, posts.id, posts.user_id, ",
            "posts.title, posts.body FROM users LEFT OUTER JOIN posts ",
            "ON posts.user_id = users.id WHERE users.hair_color = ",
            $p
        )
    };
}
pub const POSTS_OF: &str = "SELECT id, user_id, title, body FROM posts WHERE user_id IN (";
pub const COMMENTS_OF: &str = "SELECT id, post_id, text FROM comments WHERE post_id IN (";
/// The statements of the other modules, with `?` (SQLite, MySQL) and `$n` (PostgreSQL)
/// placeholders.
pub const USER_BY_ID_Q: &str = user_by_id!("?");
pub const USER_BY_ID_PG: &str = user_by_id!("$1");
pub const JOIN_Q: &str = join!("?");
pub const JOIN_PG: &str = join!("$1");
/// PostgreSQL's lists: one array parameter, so one prepared statement for any length.
pub const POSTS_ANY: &str = "SELECT id, user_id, title, body FROM posts WHERE user_id = ANY($1)";
pub const COMMENTS_ANY: &str = "SELECT id, post_id, text FROM comments WHERE post_id = ANY($1)";

/// `INSERT INTO users (name, hair_color) VALUES (?, ?), …` for `n` rows; `placeholder(k)` is
/// the k-th (0-based) placeholder.
pub fn insert_users_sql(n: usize, placeholder: impl Fn(usize) -> String) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| format!("({}, {})", placeholder(2 * i), placeholder(2 * i + 1)))
        .collect();
    format!(
        "INSERT INTO users (name, hair_color) VALUES {}",
        rows.join(", ")
    )
}

pub fn in_list(head: &str, n: usize, placeholder: impl Fn(usize) -> String) -> String {
    let list: Vec<String> = (0..n).map(placeholder).collect();
    format!("{head}{})", list.join(", "))
}

pub fn new_users(n: usize) -> Vec<(String, &'static str)> {
    (0..n).map(|i| (new_user_name(i), NEW_USER_HAIR)).collect()
}

// --- SQLite -------------------------------------------------------------------------------

/// rusqlite on a memory database of its own.
pub struct Sqlite {
    conn: rusqlite::Connection,
}

pub fn sqlite() -> Result<Box<dyn Contender>> {
    let conn = rusqlite::Connection::open_in_memory().context("rusqlite: open memory database")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(Box::new(Sqlite { conn }))
}

pub fn sqlite_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        hair_color: row.get(2)?,
    })
}

impl Contender for Sqlite {
    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        let conn = &self.conn;
        match case.workload {
            Workload::TrivialQuery => {
                let mut stmt = conn.prepare_cached(USERS)?;
                let users = stmt
                    .query_map([], sqlite_user)?
                    .collect::<rusqlite::Result<Vec<User>>>()?;
                Ok(users.len())
            }
            Workload::MediumComplexQuery => {
                let mut stmt = conn.prepare_cached(join!("?"))?;
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
                Ok(rows.len())
            }
            Workload::Insert => {
                let users = new_users(case.n);
                let mut stmt = conn.prepare_cached(&insert_users_sql(case.n, |_| "?".into()))?;
                let params: Vec<&dyn rusqlite::ToSql> = users
                    .iter()
                    .flat_map(|(name, hair)| [name as &dyn rusqlite::ToSql, hair as _])
                    .collect();
                Ok(stmt.execute(params.as_slice())?)
            }
            Workload::PkLookup => {
                let mut found = 0;
                for id in 1..=case.n as i64 {
                    let mut stmt = conn.prepare_cached(user_by_id!("?"))?;
                    let mut rows = stmt.query([id])?;
                    if let Some(row) = rows.next()? {
                        std::hint::black_box(sqlite_user(row)?);
                        found += 1;
                    }
                }
                Ok(found)
            }
            Workload::LoadingAssociations => {
                let users = conn
                    .prepare_cached(USERS)?
                    .query_map([], sqlite_user)?
                    .collect::<rusqlite::Result<Vec<User>>>()?;
                let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                let posts = conn
                    .prepare_cached(&in_list(POSTS_OF, ids.len(), |_| "?".into()))?
                    .query_map(rusqlite::params_from_iter(&ids), |row| {
                        Ok(Post {
                            id: row.get(0)?,
                            user_id: row.get(1)?,
                            title: row.get(2)?,
                            body: row.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<Post>>>()?;
                let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                let comments = conn
                    .prepare_cached(&in_list(COMMENTS_OF, ids.len(), |_| "?".into()))?
                    .query_map(rusqlite::params_from_iter(&ids), |row| {
                        Ok(Comment {
                            id: row.get(0)?,
                            post_id: row.get(1)?,
                            text: row.get(2)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<Comment>>>()?;
                Ok(count_comments(&group_plain(users, posts, comments)))
            }
        }
    }
}

/// [`group`] for the plain structs.
pub fn group_plain(
    users: Vec<User>,
    posts: Vec<Post>,
    comments: Vec<Comment>,
) -> Grouped<User, Post, Comment> {
    group(
        users,
        posts,
        comments,
        |u| u.id,
        |p| p.id,
        |p| p.user_id,
        |c| c.post_id,
    )
}

// --- PostgreSQL ---------------------------------------------------------------------------

/// The `postgres` crate, statements prepared once per case (by `prepare`) and reused.
pub struct Postgres {
    client: postgres::Client,
    statements: HashMap<&'static str, postgres::Statement>,
}

pub fn postgres(url: &str) -> Result<Box<dyn Contender>> {
    let mut config: postgres::Config = url.parse().context("postgres: parse URL")?;
    config.application_name(APPLICATION_NAME);
    let client = config
        .connect(postgres::NoTls)
        .context("postgres: connect")?;
    Ok(Box::new(Postgres {
        client,
        statements: HashMap::new(),
    }))
}

pub fn pg_user(row: &postgres::Row) -> User {
    User {
        id: row.get(0),
        name: row.get(1),
        hair_color: row.get(2),
    }
}

impl Postgres {
    fn statement(&self, key: &'static str) -> Result<&postgres::Statement> {
        self.statements
            .get(key)
            .with_context(|| format!("raw postgres: {key} was not prepared"))
    }
}

impl Contender for Postgres {
    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn prepare(&mut self, case: &Case) -> Result<()> {
        self.statements.clear();
        let sqls: Vec<(&'static str, String)> = match case.workload {
            Workload::TrivialQuery => vec![("users", USERS.into())],
            Workload::MediumComplexQuery => vec![("join", join!("$1").into())],
            Workload::Insert => vec![(
                "insert",
                insert_users_sql(case.n, |k| format!("${}", k + 1)),
            )],
            Workload::PkLookup => vec![("by_id", user_by_id!("$1").into())],
            // Arrays: PostgreSQL's own way to pass a list to one prepared statement.
            Workload::LoadingAssociations => vec![
                ("users", USERS.into()),
                ("posts", POSTS_ANY.into()),
                ("comments", COMMENTS_ANY.into()),
            ],
        };
        for (key, sql) in sqls {
            let stmt = self.client.prepare(&sql)?;
            self.statements.insert(key, stmt);
        }
        Ok(())
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        match case.workload {
            Workload::TrivialQuery => {
                let stmt = self.statement("users")?.clone();
                let users: Vec<User> = self.client.query(&stmt, &[])?.iter().map(pg_user).collect();
                Ok(users.len())
            }
            Workload::MediumComplexQuery => {
                let stmt = self.statement("join")?.clone();
                let rows: Vec<(User, Option<Post>)> = self
                    .client
                    .query(&stmt, &[&"black"])?
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
                let stmt = self.statement("insert")?.clone();
                let users = new_users(case.n);
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = users
                    .iter()
                    .flat_map(|(name, hair)| {
                        [name as &(dyn postgres::types::ToSql + Sync), hair as _]
                    })
                    .collect();
                Ok(self.client.execute(&stmt, &params)? as usize)
            }
            Workload::PkLookup => {
                let stmt = self.statement("by_id")?.clone();
                let mut found = 0;
                for id in 1..=case.n as i64 {
                    if let Some(row) = self.client.query_opt(&stmt, &[&id])? {
                        std::hint::black_box(pg_user(&row));
                        found += 1;
                    }
                }
                Ok(found)
            }
            Workload::LoadingAssociations => {
                let users_stmt = self.statement("users")?.clone();
                let posts_stmt = self.statement("posts")?.clone();
                let comments_stmt = self.statement("comments")?.clone();
                let users: Vec<User> = self
                    .client
                    .query(&users_stmt, &[])?
                    .iter()
                    .map(pg_user)
                    .collect();
                let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                let posts: Vec<Post> = self
                    .client
                    .query(&posts_stmt, &[&ids])?
                    .iter()
                    .map(|row| Post {
                        id: row.get(0),
                        user_id: row.get(1),
                        title: row.get(2),
                        body: row.get(3),
                    })
                    .collect();
                let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                let comments: Vec<Comment> = self
                    .client
                    .query(&comments_stmt, &[&ids])?
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
    }
}

// --- MySQL --------------------------------------------------------------------------------

/// The `mysql` crate (binary protocol), statements prepared once per case and reused.
pub struct Mysql {
    conn: mysql::Conn,
    statements: HashMap<&'static str, mysql::Statement>,
}

pub fn mysql(url: &str) -> Result<Box<dyn Contender>> {
    let opts = mysql::Opts::from_url(url).context("mysql: parse URL")?;
    let conn = mysql::Conn::new(opts).context("mysql: connect")?;
    Ok(Box::new(Mysql {
        conn,
        statements: HashMap::new(),
    }))
}

pub fn my_user(row: &mysql::Row) -> Result<User> {
    Ok(User {
        id: row.get_opt(0).context("users.id")??,
        name: row.get_opt(1).context("users.name")??,
        hair_color: row.get_opt(2).context("users.hair_color")??,
    })
}

pub fn my_post(row: &mysql::Row, at: usize) -> Result<Post> {
    Ok(Post {
        id: row.get_opt(at).context("posts.id")??,
        user_id: row.get_opt(at + 1).context("posts.user_id")??,
        title: row.get_opt(at + 2).context("posts.title")??,
        body: row.get_opt(at + 3).context("posts.body")??,
    })
}

impl Mysql {
    fn statement(&self, key: &'static str) -> Result<mysql::Statement> {
        self.statements
            .get(key)
            .cloned()
            .with_context(|| format!("raw mysql: {key} was not prepared"))
    }

    fn load<T>(
        &mut self,
        stmt: &mysql::Statement,
        params: mysql::Params,
        decode: impl Fn(&mysql::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        use mysql::prelude::Queryable;
        let mut out = Vec::new();
        for row in self.conn.exec_iter(stmt, params)? {
            out.push(decode(&row?)?);
        }
        Ok(out)
    }
}

impl Contender for Mysql {
    fn batch(&mut self, sql: &str) -> Result<()> {
        use mysql::prelude::Queryable;
        Ok(self.conn.query_drop(sql)?)
    }

    fn prepare(&mut self, case: &Case) -> Result<()> {
        use mysql::prelude::Queryable;
        self.statements.clear();
        let n = case.n;
        let sqls: Vec<(&'static str, String)> = match case.workload {
            Workload::TrivialQuery => vec![("users", USERS.into())],
            Workload::MediumComplexQuery => vec![("join", join!("?").into())],
            Workload::Insert => vec![("insert", insert_users_sql(n, |_| "?".into()))],
            Workload::PkLookup => vec![("by_id", user_by_id!("?").into())],
            Workload::LoadingAssociations => vec![
                ("users", USERS.into()),
                ("posts", in_list(POSTS_OF, n, |_| "?".into())),
                (
                    "comments",
                    in_list(COMMENTS_OF, n * crate::workload::POSTS_PER_USER, |_| {
                        "?".into()
                    }),
                ),
            ],
        };
        for (key, sql) in sqls {
            let stmt = self.conn.prep(&sql)?;
            self.statements.insert(key, stmt);
        }
        Ok(())
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        use mysql::prelude::Queryable;
        match case.workload {
            Workload::TrivialQuery => {
                let stmt = self.statement("users")?;
                Ok(self.load(&stmt, mysql::Params::Empty, my_user)?.len())
            }
            Workload::MediumComplexQuery => {
                let stmt = self.statement("join")?;
                let rows = self.load(&stmt, ("black",).into(), |row| {
                    let post = match row.get_opt::<Option<i64>, _>(3).context("posts.id")?? {
                        Some(_) => Some(my_post(row, 3)?),
                        None => None,
                    };
                    Ok((my_user(row)?, post))
                })?;
                Ok(rows.len())
            }
            Workload::Insert => {
                let stmt = self.statement("insert")?;
                let users = new_users(case.n);
                let params: Vec<mysql::Value> = users
                    .iter()
                    .flat_map(|(name, hair)| [name.as_str().into(), (*hair).into()])
                    .collect();
                self.conn.exec_drop(&stmt, params)?;
                Ok(self.conn.affected_rows() as usize)
            }
            Workload::PkLookup => {
                let stmt = self.statement("by_id")?;
                let mut found = 0;
                for id in 1..=case.n as i64 {
                    let row: Option<mysql::Row> = self.conn.exec_first(&stmt, (id,))?;
                    if let Some(row) = row {
                        std::hint::black_box(my_user(&row)?);
                        found += 1;
                    }
                }
                Ok(found)
            }
            Workload::LoadingAssociations => {
                let users_stmt = self.statement("users")?;
                let posts_stmt = self.statement("posts")?;
                let comments_stmt = self.statement("comments")?;
                let users = self.load(&users_stmt, mysql::Params::Empty, my_user)?;
                let ids: Vec<mysql::Value> = users.iter().map(|u| u.id.into()).collect();
                let posts = self.load(&posts_stmt, ids.into(), |row| my_post(row, 0))?;
                let ids: Vec<mysql::Value> = posts.iter().map(|p| p.id.into()).collect();
                let comments = self.load(&comments_stmt, ids.into(), |row| {
                    Ok(Comment {
                        id: row.get_opt(0).context("comments.id")??,
                        post_id: row.get_opt(1).context("comments.post_id")??,
                        text: row.get_opt(2).context("comments.text")??,
                    })
                })?;
                Ok(count_comments(&group_plain(users, posts, comments)))
            }
        }
    }
}
