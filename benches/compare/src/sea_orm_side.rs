//! SeaORM 2 (on sqlx 0.9) as its guide writes it: entities with `DeriveEntityModel` and
//! relations, `Entity::find()…all`, `find_also_related`, `find_by_id(id).one`,
//! `insert_many(…).exec_without_returning`, and the loader (`load_many`) for the associations.
//! A `DatabaseConnection` of one pooled connection (`max_connections(1)`, so SQLite's memory
//! database is one), sqlx's statement logging and its ping before each checkout
//! (`test_before_acquire`) off; on a tokio `current_thread` runtime of its own.

use anyhow::{Context, Result};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    EntityTrait, LoaderTrait, QueryFilter,
};

use crate::async_rt::runtime;
use crate::workload::{
    APPLICATION_NAME, Case, Contender, Grouped, NEW_USER_HAIR, Workload, new_user_name,
};

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod post {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub body: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::user::Entity",
            from = "Column::UserId",
            to = "super::user::Column::Id"
        )]
        User,
        #[sea_orm(has_many = "super::comment::Entity")]
        Comment,
    }

    impl Related<super::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl Related<super::comment::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Comment.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod comment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub post_id: i64,
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::post::Entity",
            from = "Column::PostId",
            to = "super::post::Column::Id"
        )]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub struct SeaOrm {
    rt: tokio::runtime::Runtime,
    db: DatabaseConnection,
}

/// `url`: `sqlite::memory:`, `postgresql://…` (named `quarry_bench`), `mysql://…`.
pub fn new(url: &str) -> Result<Box<dyn Contender>> {
    let url = if url.starts_with("postgres") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}application_name={APPLICATION_NAME}")
    } else {
        url.to_owned()
    };
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false)
        // No ping before each statement's checkout: the other contenders hold their
        // connection and check nothing either.
        .test_before_acquire(false);
    let rt = runtime()?;
    let db = rt
        .block_on(Database::connect(options))
        .with_context(|| format!("sea-orm: connect to {url}"))?;
    Ok(Box::new(SeaOrm { rt, db }))
}

impl Contender for SeaOrm {
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.rt.block_on(async {
            for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                self.db.execute_unprepared(stmt).await?;
            }
            anyhow::Ok(())
        })
    }

    fn run(&mut self, case: &Case) -> Result<usize> {
        let db = &self.db;
        self.rt.block_on(async {
            match case.workload {
                Workload::TrivialQuery => Ok(user::Entity::find().all(db).await?.len()),
                Workload::MediumComplexQuery => {
                    let rows: Vec<(user::Model, Option<post::Model>)> = user::Entity::find()
                        .find_also_related(post::Entity)
                        .filter(user::Column::HairColor.eq("black"))
                        .all(db)
                        .await?;
                    Ok(rows.len())
                }
                Workload::Insert => {
                    let users = (0..case.n).map(|i| user::ActiveModel {
                        id: ActiveValue::NotSet,
                        name: ActiveValue::Set(new_user_name(i)),
                        hair_color: ActiveValue::Set(Some(NEW_USER_HAIR.to_owned())),
                    });
                    let inserted = user::Entity::insert_many(users)
                        .exec_without_returning(db)
                        .await?;
                    Ok(usize::try_from(inserted)?)
                }
                Workload::PkLookup => {
                    let mut found = 0;
                    for id in 1..=case.n as i64 {
                        if let Some(user) = user::Entity::find_by_id(id).one(db).await? {
                            std::hint::black_box(user);
                            found += 1;
                        }
                    }
                    Ok(found)
                }
                Workload::LoadingAssociations => {
                    let users = user::Entity::find().all(db).await?;
                    let posts = users.load_many(post::Entity, db).await?;
                    let flat: Vec<post::Model> = posts.iter().flatten().cloned().collect();
                    let comments = flat.load_many(comment::Entity, db).await?;
                    // Regroup as the other contenders' result: each user with its posts,
                    // each post with its comments.
                    let mut comments = comments.into_iter();
                    let grouped: Grouped<user::Model, post::Model, comment::Model> = users
                        .into_iter()
                        .zip(posts)
                        .map(|(u, ps)| {
                            let ps = ps
                                .into_iter()
                                .map(|p| (p, comments.next().unwrap_or_default()))
                                .collect();
                            (u, ps)
                        })
                        .collect();
                    Ok(crate::workload::count_comments(&grouped))
                }
            }
        })
    }
}
