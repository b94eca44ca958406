//! Quarry's async engine (`quarry::asyncio`), as its README shows it: the same derived tables
//! and the same `select!` / `insert_many` statements as `quarry_side.rs`, on one explicit
//! `AsyncConnection` held by the contender, driven by a tokio runtime of its own.

use anyhow::{Context, Result};
use quarry::asyncio::{AsyncConnection, AsyncEngine};
use quarry::prelude::*;

use crate::async_rt::runtime;
use crate::quarry_side::{Comment, Post, User, count_grouped, postgres_url};
use crate::workload::{Case, Contender, NEW_USER_HAIR, Workload, new_user_name};

pub struct QuarryAsync {
    rt: tokio::runtime::Runtime,
    conn: AsyncConnection,
}

/// `url` as Quarry spells it (`sqlite://`, `postgresql://…`, `mysql://…`).
pub fn new(url: &str) -> Result<Box<dyn Contender>> {
    let url = postgres_url(url);
    let rt = runtime()?;
    let conn = rt.block_on(async {
        let engine = AsyncEngine::builder(url.as_str())
            .build()
            .await
            .with_context(|| format!("quarry_async: engine for {url}"))?;
        engine.connect().await.context("quarry_async: connect")
    })?;
    Ok(Box::new(QuarryAsync { rt, conn }))
}

impl Contender for QuarryAsync {
    fn batch(&mut self, sql: &str) -> Result<()> {
        let conn = &mut self.conn;
        self.rt.block_on(async {
            for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                conn.execute(text(stmt.to_owned())).await?;
            }
            Ok(())
        })
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        let conn = &mut self.conn;
        self.rt.block_on(async {
            match case.workload {
                Workload::TrivialQuery => {
                    let users: Vec<User> = conn.execute(select!(User)).await?.all();
                    Ok(users.len())
                }
                Workload::MediumComplexQuery => {
                    let rows: Vec<(User, Option<Post>)> = conn
                        .execute(
                            select!(User, Post FROM User LEFT JOIN Post ON Post::user_id == User::id
                                         WHERE User::hair_color == "black"),
                        )
                        .await?
                        .all();
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
                    Ok(conn.execute(User::insert_many(&users)).await?.rowcount() as usize)
                }
                Workload::PkLookup => {
                    let mut found = 0;
                    for id in 1..=case.n as i64 {
                        let user: Option<User> = conn
                            .execute(select!(User WHERE User::id == id))
                            .await?
                            .first();
                        if let Some(user) = user {
                            std::hint::black_box(user);
                            found += 1;
                        }
                    }
                    Ok(found)
                }
                Workload::LoadingAssociations => {
                    let users: Vec<User> = conn.execute(select!(User)).await?.all();
                    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                    let posts: Vec<Post> = conn
                        .execute(select!(Post WHERE Post::user_id.in_(ids)))
                        .await?
                        .all();
                    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                    let comments: Vec<Comment> = conn
                        .execute(select!(Comment WHERE Comment::post_id.in_(ids)))
                        .await?
                        .all();
                    Ok(count_grouped(users, posts, comments))
                }
            }
        })
    }
}
