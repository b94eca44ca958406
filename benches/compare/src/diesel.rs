//! Diesel 2.4 contenders: the workloads written as a Diesel user writes them, in the plain form
//! and in Diesel's tuned form, which differs in the insert alone (`NewUserTuned`).

use crate::workload::{
    APPLICATION_NAME, Case, Contender, NEW_USER_HAIR, Workload, count_comments, new_user_name,
};

use anyhow::{Context, Result, bail};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

/// The tuned insert's fixed row count: the array length is part of the statement's type, which
/// is what lets Diesel cache the prepared statement.
pub(crate) const INSERT_ROWS: usize = 100;

pub(crate) mod schema {
    diesel::table! {
        users (id) {
            id -> BigInt,
            name -> Text,
            hair_color -> Nullable<Text>,
        }
    }

    diesel::table! {
        posts (id) {
            id -> BigInt,
            user_id -> BigInt,
            title -> Text,
            body -> Nullable<Text>,
        }
    }

    diesel::table! {
        comments (id) {
            id -> BigInt,
            post_id -> BigInt,
            text -> Text,
        }
    }

    diesel::joinable!(posts -> users (user_id));
    diesel::joinable!(comments -> posts (post_id));
    diesel::allow_tables_to_appear_in_same_query!(users, posts, comments);
}

use schema::{posts, users};

// Diesel derives its loading from its own structs, so these restate workload::{User, Post,
// Comment} rather than reuse them. The benchmark loads every field and reads only some, hence
// the `allow(dead_code)`s.
#[derive(Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[allow(dead_code)]
pub(crate) struct User {
    id: i64,
    name: String,
    hair_color: Option<String>,
}

#[derive(Debug, Queryable, Selectable, Identifiable, Associations)]
#[diesel(belongs_to(User))]
#[diesel(table_name = posts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[allow(dead_code)]
pub(crate) struct Post {
    id: i64,
    user_id: i64,
    title: String,
    body: Option<String>,
}

#[derive(Debug, Queryable, Selectable, Identifiable, Associations)]
#[diesel(belongs_to(Post))]
#[diesel(table_name = schema::comments)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[allow(dead_code)]
pub(crate) struct Comment {
    id: i64,
    post_id: i64,
    text: String,
}

/// The plain insertable: a `None` field renders as `DEFAULT`, so the SQL depends on the values.
/// On PostgreSQL Diesel prepares the multi-row `INSERT` anew each time; SQLite has no `DEFAULT`
/// in `VALUES`, so there Diesel runs 100 single-row `INSERT`s in a transaction (measured:
/// `BEGIN`, 100 inserts, `COMMIT`).
#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    name: String,
    hair_color: Option<&'a str>,
}

/// The tuned insertable: `None` binds `NULL`, so the SQL is fixed by the row count alone.
#[derive(Insertable)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct NewUserTuned<'a> {
    pub(crate) name: String,
    pub(crate) hair_color: Option<&'a str>,
}

/// A Diesel connection and which insert form it runs; every other workload is the same in
/// both forms.
struct Diesel<C> {
    conn: C,
    tuned: bool,
}

/// Diesel connection on a fresh in-memory SQLite database.
pub fn sqlite(tuned: bool) -> Result<Box<dyn Contender>> {
    let conn = SqliteConnection::establish(":memory:").context("diesel: open sqlite :memory:")?;
    Ok(Box::new(Diesel { conn, tuned }))
}

/// Diesel connection to PostgreSQL at `url`, tagged with [`APPLICATION_NAME`].
pub fn postgres(url: &str, tuned: bool) -> Result<Box<dyn Contender>> {
    // libpq takes the application name as a query parameter of the connection URI.
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}application_name={APPLICATION_NAME}");
    let conn =
        PgConnection::establish(&url).with_context(|| format!("diesel: connect to {url}"))?;
    Ok(Box::new(Diesel { conn, tuned }))
}

// The queries' types differ per backend, and spelling out Diesel's bounds for a generic
// connection costs more lines than the workloads themselves: one body, stamped per connection.
macro_rules! impl_contender {
    ($conn:ty) => {
        impl Contender for Diesel<$conn> {
            fn batch(&mut self, sql: &str) -> Result<()> {
                self.conn.batch_execute(sql).context("diesel: batch")
            }

            fn run(&mut self, case: &Case) -> Result<usize> {
                self.workload(case)
                    .with_context(|| format!("diesel: {case}"))
            }
        }

        impl Diesel<$conn> {
            fn workload(&mut self, case: &Case) -> Result<usize> {
                let conn = &mut self.conn;
                let count = match case.workload {
                    Workload::TrivialQuery => users::table.load::<User>(conn)?.len(),
                    Workload::MediumComplexQuery => users::table
                        .left_outer_join(posts::table)
                        .filter(users::hair_color.eq("black"))
                        .load::<(User, Option<Post>)>(conn)?
                        .len(),
                    Workload::Insert if self.tuned => {
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
                        diesel::insert_into(users::table)
                            .values(&new_users)
                            .execute(conn)?
                    }
                    Workload::Insert => {
                        let new_users: Vec<NewUser> = (0..case.n)
                            .map(|i| NewUser {
                                name: new_user_name(i),
                                hair_color: Some(NEW_USER_HAIR),
                            })
                            .collect();
                        diesel::insert_into(users::table)
                            .values(&new_users)
                            .execute(conn)?
                    }
                    Workload::PkLookup => {
                        let mut found = 0;
                        for id in 1..=i64::try_from(case.n)? {
                            let user: Option<User> =
                                users::table.find(id).first(conn).optional()?;
                            found += usize::from(user.is_some());
                        }
                        found
                    }
                    Workload::LoadingAssociations => {
                        let users = users::table.select(User::as_select()).load(conn)?;
                        let posts = Post::belonging_to(&users)
                            .select(Post::as_select())
                            .load(conn)?;
                        let comments = Comment::belonging_to(&posts)
                            .select(Comment::as_select())
                            .load(conn)?;
                        let comments = comments.grouped_by(&posts);
                        let posts = posts.into_iter().zip(comments).grouped_by(&users);
                        let grouped: Vec<(User, Vec<(Post, Vec<Comment>)>)> =
                            users.into_iter().zip(posts).collect();
                        count_comments(&grouped)
                    }
                };
                Ok(count)
            }
        }
    };
}

impl_contender!(SqliteConnection);
impl_contender!(PgConnection);
