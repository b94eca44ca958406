//! Quarry, as its README shows it: derived tables, `select!`, `insert_many`, one explicit
//! `Connection` held by the contender (as raw holds its driver connection).

use anyhow::{Context, Result};
use quarry::prelude::*;

use crate::workload::{
    APPLICATION_NAME, Case, Contender, NEW_USER_HAIR, Workload, count_comments, group,
    new_user_name,
};

static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = User::id)]
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "comments", metadata = META)]
pub struct Comment {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Post::id)]
    pub post_id: i64,
    pub text: String,
}

/// One explicit connection; it keeps its engine alive.
pub struct Quarry {
    conn: Connection,
}

/// `url` as Quarry spells it: `sqlite://` (memory), `postgresql://…`, `mysql://…`. PostgreSQL
/// connections are named `quarry_bench` through the URL's `application_name`.
pub fn new(url: &str) -> Result<Box<dyn Contender>> {
    let url = postgres_url(url);
    let engine = create_engine(&url).with_context(|| format!("quarry: engine for {url}"))?;
    let conn = engine.connect().context("quarry: connect")?;
    Ok(Box::new(Quarry { conn }))
}

/// A PostgreSQL URL with the lean driver's scheme, `postgresql+wire://`.
pub fn wire_url(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    format!("postgresql+wire://{rest}")
}

/// `loading_associations`' grouping of Quarry's rows (both engines), and its comment count.
pub fn count_grouped(users: Vec<User>, posts: Vec<Post>, comments: Vec<Comment>) -> usize {
    count_comments(&group(
        users,
        posts,
        comments,
        |u| u.id,
        |p| p.id,
        |p| p.user_id,
        |c| c.post_id,
    ))
}

/// `url` with `application_name=quarry_bench` added when it is a PostgreSQL URL.
pub fn postgres_url(url: &str) -> String {
    if url.starts_with("postgres") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}application_name={APPLICATION_NAME}")
    } else {
        url.to_owned()
    }
}

impl Contender for Quarry {
    fn batch(&mut self, sql: &str) -> Result<()> {
        for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            self.conn.execute(text(stmt.to_owned()))?;
        }
        Ok(())
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        let conn = &mut self.conn;
        match case.workload {
            Workload::TrivialQuery => {
                let users: Vec<User> = conn.execute(select!(User))?.all()?;
                Ok(users.len())
            }
            Workload::MediumComplexQuery => {
                let rows: Vec<(User, Option<Post>)> = conn
                    .execute(
                        select!(User, Post FROM User LEFT JOIN Post ON Post::user_id == User::id
                                     WHERE User::hair_color == "black"),
                    )?
                    .all()?;
                Ok(rows.len())
            }
            Workload::Insert => {
                let users: Vec<User> = (0..case.n)
                    .map(|i| User {
                        id: 0,
                        name: new_user_name(i),
                        hair_color: Some(NEW_USER_HAIR.to_owned()),
                    })
                    .collect();
                Ok(conn.execute(User::insert_many(&users))?.rowcount() as usize)
            }
            Workload::PkLookup => {
                let mut found = 0;
                for id in 1..=case.n as i64 {
                    let user: Option<User> =
                        conn.execute(select!(User WHERE User::id == id))?.first()?;
                    if let Some(user) = user {
                        std::hint::black_box(user);
                        found += 1;
                    }
                }
                Ok(found)
            }
            Workload::LoadingAssociations => {
                let users: Vec<User> = conn.execute(select!(User))?.all()?;
                let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                let posts: Vec<Post> = conn
                    .execute(select!(Post WHERE Post::user_id.in_(ids)))?
                    .all()?;
                let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                let comments: Vec<Comment> = conn
                    .execute(select!(Comment WHERE Comment::post_id.in_(ids)))?
                    .all()?;
                Ok(count_grouped(users, posts, comments))
            }
        }
    }
}
