//! diesel-async 0.10 contenders: `diesel.rs`'s schema, structs and queries run through
//! `diesel_async::RunQueryDsl` on `AsyncPgConnection` (tokio-postgres), `AsyncMysqlConnection`
//! (mysql_async) and `SyncConnectionWrapper<SqliteConnection>` (Diesel's SQLite connection,
//! each call on tokio's blocking pool), on a tokio `current_thread` runtime of its own. The
//! insert is Diesel's tuned form (`[NewUserTuned; 100]`, one cacheable statement).

use anyhow::{Context, Result, bail};
use diesel::prelude::{
    BelongingToDsl, ExpressionMethods, GroupedBy, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{
    AsyncConnection, AsyncMysqlConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
};

use crate::async_rt::runtime;
use crate::diesel_side::schema::{posts, users};
use crate::diesel_side::{Comment, INSERT_ROWS, NewUserTuned, Post, User};
use crate::workload::{
    APPLICATION_NAME, Case, Contender, NEW_USER_HAIR, Workload, count_comments, new_user_name,
};

struct DieselAsync<C> {
    rt: tokio::runtime::Runtime,
    conn: C,
}

pub fn sqlite() -> Result<Box<dyn Contender>> {
    let rt = runtime()?;
    let conn = rt
        .block_on(SyncConnectionWrapper::<SqliteConnection>::establish(
            ":memory:",
        ))
        .context("diesel-async: open sqlite :memory:")?;
    Ok(Box::new(DieselAsync { rt, conn }))
}

pub fn postgres(url: &str) -> Result<Box<dyn Contender>> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}application_name={APPLICATION_NAME}");
    let rt = runtime()?;
    let conn = rt
        .block_on(AsyncPgConnection::establish(&url))
        .with_context(|| format!("diesel-async: connect to {url}"))?;
    Ok(Box::new(DieselAsync { rt, conn }))
}

pub fn mysql(url: &str) -> Result<Box<dyn Contender>> {
    let rt = runtime()?;
    let conn = rt
        .block_on(AsyncMysqlConnection::establish(url))
        .with_context(|| format!("diesel-async: connect to {url}"))?;
    Ok(Box::new(DieselAsync { rt, conn }))
}

/// The tuned insert. SQLite: diesel-async's `RunQueryDsl` has no multi-row `INSERT` for
/// `SyncConnectionWrapper` (Diesel's SQLite batch insert is written for its own connection),
/// so it runs on the wrapped connection through `spawn_blocking`, as diesel-async's guide
/// says to do with what the wrapper lacks.
trait InsertUsers {
    async fn insert_users(&mut self, rows: [NewUserTuned<'static>; INSERT_ROWS]) -> Result<usize>;
}

impl InsertUsers for SyncConnectionWrapper<SqliteConnection> {
    async fn insert_users(&mut self, rows: [NewUserTuned<'static>; INSERT_ROWS]) -> Result<usize> {
        Ok(self
            .spawn_blocking(move |conn| {
                diesel::RunQueryDsl::execute(diesel::insert_into(users::table).values(&rows), conn)
            })
            .await?)
    }
}

macro_rules! impl_insert {
    ($conn:ty) => {
        impl InsertUsers for $conn {
            async fn insert_users(
                &mut self,
                rows: [NewUserTuned<'static>; INSERT_ROWS],
            ) -> Result<usize> {
                Ok(diesel::insert_into(users::table)
                    .values(&rows)
                    .execute(self)
                    .await?)
            }
        }
    };
}

impl_insert!(AsyncPgConnection);
impl_insert!(AsyncMysqlConnection);

macro_rules! impl_contender {
    ($conn:ty) => {
        impl Contender for DieselAsync<$conn> {
            fn batch(&mut self, sql: &str) -> Result<()> {
                self.rt
                    .block_on(self.conn.batch_execute(sql))
                    .context("diesel-async: batch")
            }

            fn run(&mut self, case: &Case) -> Result<usize> {
                let conn = &mut self.conn;
                self.rt
                    .block_on(async {
                        let count = match case.workload {
                            Workload::TrivialQuery => users::table.load::<User>(conn).await?.len(),
                            Workload::MediumComplexQuery => users::table
                                .left_outer_join(posts::table)
                                .filter(users::hair_color.eq("black"))
                                .load::<(User, Option<Post>)>(conn)
                                .await?
                                .len(),
                            Workload::Insert => {
                                if case.n != INSERT_ROWS {
                                    bail!(
                                        "the tuned insert inserts {INSERT_ROWS} rows, not {}",
                                        case.n
                                    );
                                }
                                let new_users: [NewUserTuned; INSERT_ROWS] =
                                    std::array::from_fn(|i| NewUserTuned {
                                        name: new_user_name(i),
                                        hair_color: Some(NEW_USER_HAIR),
                                    });
                                conn.insert_users(new_users).await?
                            }
                            Workload::PkLookup => {
                                let mut found = 0;
                                for id in 1..=i64::try_from(case.n)? {
                                    let user: Option<User> =
                                        users::table.find(id).first(conn).await.optional()?;
                                    found += usize::from(user.is_some());
                                }
                                found
                            }
                            Workload::LoadingAssociations => {
                                let users =
                                    users::table.select(User::as_select()).load(conn).await?;
                                let posts = Post::belonging_to(&users)
                                    .select(Post::as_select())
                                    .load(conn)
                                    .await?;
                                let comments = Comment::belonging_to(&posts)
                                    .select(Comment::as_select())
                                    .load(conn)
                                    .await?;
                                let comments = comments.grouped_by(&posts);
                                let posts = posts.into_iter().zip(comments).grouped_by(&users);
                                let grouped: Vec<(User, Vec<(Post, Vec<Comment>)>)> =
                                    users.into_iter().zip(posts).collect();
                                count_comments(&grouped)
                            }
                        };
                        Ok(count)
                    })
                    .with_context(|| format!("diesel-async: {case}"))
            }
        }
    };
}

impl_contender!(SyncConnectionWrapper<SqliteConnection>);
impl_contender!(AsyncPgConnection);
impl_contender!(AsyncMysqlConnection);
