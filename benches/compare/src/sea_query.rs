//! SeaQuery 1.x contenders: each iteration builds its statements with SeaQuery's builder and
//! runs the rendered SQL on rusqlite or `postgres`, with or without a prepared-statement cache.

use crate::workload::{
    APPLICATION_NAME, Case, Comment, Contender, NEW_USER_HAIR, Post, User, Workload,
    count_comments, new_user_name,
};

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use sea_query::{
    Expr, ExprTrait, Iden, InsertStatement, PostgresQueryBuilder, Query, SelectStatement,
    SqliteQueryBuilder,
};
use sea_query_postgres::PostgresBinder;
use sea_query_rusqlite::RusqliteBinder;

#[derive(Iden)]
enum Users {
    Table,
    Id,
    Name,
    HairColor,
}

#[derive(Iden)]
enum Posts {
    Table,
    Id,
    UserId,
    Title,
    Body,
}

#[derive(Iden)]
enum Comments {
    Table,
    Id,
    PostId,
    Text,
}

/// SeaQuery on an in-memory SQLite database through rusqlite.
pub fn sqlite(cached: bool) -> Result<Box<dyn Contender>> {
    let conn = rusqlite::Connection::open_in_memory().context("sea-query: open sqlite")?;
    Ok(Box::new(Sqlite { conn, cached }))
}

/// SeaQuery on PostgreSQL at `url` through the `postgres` crate, tagged with
/// [`APPLICATION_NAME`].
pub fn postgres(url: &str, cached: bool) -> Result<Box<dyn Contender>> {
    let mut config: postgres::Config = url.parse().context("sea-query: parse the url")?;
    let client = config
        .application_name(APPLICATION_NAME)
        .connect(postgres::NoTls)
        .with_context(|| format!("sea-query: connect to {url}"))?;
    Ok(Box::new(Postgres {
        client,
        cached,
        statements: HashMap::new(),
    }))
}

/// One iteration of `case`: the statements are built here, each time, and rendered and run by
/// the driver.
fn run(db: &mut impl Driver, case: &Case) -> Result<usize> {
    let count = match case.workload {
        Workload::TrivialQuery => {
            let users: Vec<User> =
                db.select(Query::select().columns(USER_COLUMNS).from(Users::Table))?;
            users.len()
        }
        Workload::MediumComplexQuery => {
            let rows: Vec<(User, Option<Post>)> = db.select(
                Query::select()
                    .columns(USER_COLUMNS.map(|c| (Users::Table, c)))
                    .columns(POST_COLUMNS.map(|c| (Posts::Table, c)))
                    .from(Users::Table)
                    .left_join(
                        Posts::Table,
                        Expr::col((Posts::Table, Posts::UserId)).equals((Users::Table, Users::Id)),
                    )
                    .and_where(Expr::col((Users::Table, Users::HairColor)).eq("black")),
            )?;
            rows.len()
        }
        Workload::Insert => {
            let mut insert = Query::insert();
            insert
                .into_table(Users::Table)
                .columns([Users::Name, Users::HairColor]);
            for i in 0..case.n {
                insert.values([new_user_name(i).into(), NEW_USER_HAIR.into()])?;
            }
            db.insert(&insert)?
        }
        Workload::PkLookup => {
            let mut found = 0;
            for id in 1..=i64::try_from(case.n)? {
                let user: Option<User> = db.select_one(
                    Query::select()
                        .columns(USER_COLUMNS)
                        .from(Users::Table)
                        .and_where(Expr::col(Users::Id).eq(id)),
                )?;
                found += usize::from(user.is_some());
            }
            found
        }
        Workload::LoadingAssociations => {
            let users: Vec<User> =
                db.select(Query::select().columns(USER_COLUMNS).from(Users::Table))?;
            let posts: Vec<Post> = db.select(
                Query::select()
                    .columns(POST_COLUMNS)
                    .from(Posts::Table)
                    .and_where(Expr::col(Posts::UserId).is_in(users.iter().map(|u| u.id))),
            )?;
            let comments: Vec<Comment> = db.select(
                Query::select()
                    .columns([Comments::Id, Comments::PostId, Comments::Text])
                    .from(Comments::Table)
                    .and_where(Expr::col(Comments::PostId).is_in(posts.iter().map(|p| p.id))),
            )?;
            count_comments(&crate::raw::group_plain(users, posts, comments))
        }
    };
    Ok(count)
}

const USER_COLUMNS: [Users; 3] = [Users::Id, Users::Name, Users::HairColor];
const POST_COLUMNS: [Posts; 4] = [Posts::Id, Posts::UserId, Posts::Title, Posts::Body];

/// What `run` needs of a database: render a statement for it and run it.
trait Driver {
    fn select<T: FromRow>(&mut self, query: &SelectStatement) -> Result<Vec<T>>;
    fn select_one<T: FromRow>(&mut self, query: &SelectStatement) -> Result<Option<T>>;
    fn insert(&mut self, insert: &InsertStatement) -> Result<usize>;
}

/// A result row of either driver, read by column index.
trait Row {
    fn get<T>(&self, index: usize) -> Result<T>
    where
        T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>;
}

/// Decoding a row into the workload's structs, the same for both drivers.
trait FromRow: Sized {
    fn from_row(row: &impl Row) -> Result<Self>;
}

impl FromRow for User {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(User {
            id: row.get(0)?,
            name: row.get(1)?,
            hair_color: row.get(2)?,
        })
    }
}

impl FromRow for Post {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Post {
            id: row.get(0)?,
            user_id: row.get(1)?,
            title: row.get(2)?,
            body: row.get(3)?,
        })
    }
}

impl FromRow for Comment {
    fn from_row(row: &impl Row) -> Result<Self> {
        Ok(Comment {
            id: row.get(0)?,
            post_id: row.get(1)?,
            text: row.get(2)?,
        })
    }
}

impl FromRow for (User, Option<Post>) {
    fn from_row(row: &impl Row) -> Result<Self> {
        let user = User::from_row(row)?;
        // A left join's missing post is a row of NULLs: its id (never NULL in `posts`) says.
        let post = match row.get::<Option<i64>>(3)? {
            None => None,
            Some(id) => Some(Post {
                id,
                user_id: row.get(4)?,
                title: row.get(5)?,
                body: row.get(6)?,
            }),
        };
        Ok((user, post))
    }
}

struct Sqlite {
    conn: rusqlite::Connection,
    cached: bool,
}

impl Sqlite {
    /// Prepares `sql`, through rusqlite's statement cache in the cached form, and hands the
    /// statement to `f`.
    fn with_statement<R>(
        &self,
        sql: &str,
        f: impl FnOnce(&mut rusqlite::Statement<'_>) -> Result<R>,
    ) -> Result<R> {
        if self.cached {
            let mut statement = self.conn.prepare_cached(sql)?;
            f(&mut statement)
        } else {
            let mut statement = self.conn.prepare(sql)?;
            f(&mut statement)
        }
    }
}

impl Driver for Sqlite {
    fn select<T: FromRow>(&mut self, query: &SelectStatement) -> Result<Vec<T>> {
        let (sql, values) = query.build_rusqlite(SqliteQueryBuilder);
        self.with_statement(&sql, |stmt| {
            let mut rows = stmt.query(&*values.as_params())?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(T::from_row(row)?);
            }
            Ok(out)
        })
    }

    fn select_one<T: FromRow>(&mut self, query: &SelectStatement) -> Result<Option<T>> {
        let (sql, values) = query.build_rusqlite(SqliteQueryBuilder);
        self.with_statement(&sql, |stmt| {
            let mut rows = stmt.query(&*values.as_params())?;
            rows.next()?.map(T::from_row).transpose()
        })
    }

    fn insert(&mut self, insert: &InsertStatement) -> Result<usize> {
        let (sql, values) = insert.build_rusqlite(SqliteQueryBuilder);
        self.with_statement(&sql, |stmt| Ok(stmt.execute(&*values.as_params())?))
    }
}

impl Row for rusqlite::Row<'_> {
    fn get<T>(&self, index: usize) -> Result<T>
    where
        T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>,
    {
        Ok(rusqlite::Row::get(self, index)?)
    }
}

impl Contender for Sqlite {
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).context("sea-query: batch")
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        run(self, case).with_context(|| format!("sea-query: {case}"))
    }
}

struct Postgres {
    client: postgres::Client,
    cached: bool,
    /// The cached form's statements, by SQL text.
    statements: HashMap<String, postgres::Statement>,
}

impl Postgres {
    /// Runs `sql`: in the cached form on a statement prepared once per SQL text, otherwise as
    /// `postgres` runs a string (an unnamed statement prepared on each call).
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>> {
        if !self.cached {
            return Ok(self.client.query(sql, params)?);
        }
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        if !self.cached {
            return Ok(self.client.execute(sql, params)?);
        }
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }

    /// The cached statement for `sql`, prepared on a miss. (A `Statement` is a shared handle:
    /// the clone is a reference count.)
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Driver for Postgres {
    fn select<T: FromRow>(&mut self, query: &SelectStatement) -> Result<Vec<T>> {
        let (sql, values) = query.build_postgres(PostgresQueryBuilder);
        let rows = self.query(&sql, &values.as_params())?;
        rows.iter().map(T::from_row).collect()
    }

    fn select_one<T: FromRow>(&mut self, query: &SelectStatement) -> Result<Option<T>> {
        let (sql, values) = query.build_postgres(PostgresQueryBuilder);
        let rows = self.query(&sql, &values.as_params())?;
        match rows.as_slice() {
            [] => Ok(None),
            [row] => T::from_row(row).map(Some),
            _ => bail!("{} rows where at most one was expected", rows.len()),
        }
    }

    fn insert(&mut self, insert: &InsertStatement) -> Result<usize> {
        let (sql, values) = insert.build_postgres(PostgresQueryBuilder);
        let inserted = self.execute(&sql, &values.as_params())?;
        Ok(usize::try_from(inserted)?)
    }
}

impl Row for postgres::Row {
    fn get<T>(&self, index: usize) -> Result<T>
    where
        T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>,
    {
        Ok(self.try_get(index)?)
    }
}

impl Contender for Postgres {
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).context("sea-query: batch")
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        run(self, case).with_context(|| format!("sea-query: {case}"))
    }
}
