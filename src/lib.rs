//! # Quarry
//!
//! A typed SQL layer in the spirit of SQLAlchemy Core: tables declared as Rust structs,
//! SQL-shaped statements that rustc checks column by column, compiled per dialect (SQLite,
//! PostgreSQL, MySQL/MariaDB) to SQL text plus bound parameters, run through an engine with a
//! connection pool.
//!
//! ```
//! use quarry::prelude::*;
//!
//! pub static META: MetaData = MetaData::new();
//!
//! #[derive(Table, Debug, Clone, PartialEq)]
//! #[table(name = "users", metadata = META)]
//! pub struct User {
//!     #[column(primary_key)]
//!     pub id: i64,
//!     #[column(max_length = 50)]
//!     pub name: String,
//!     pub hair_color: Option<String>,
//! }
//!
//! let engine = create_engine("sqlite://")?;
//! META.create_all(&engine)?;
//!
//! let mut conn = engine.connect()?;
//! conn.execute(insert!(User { name: "john", hair_color: None }))?;
//! conn.execute(insert!(User { name: "ed", hair_color: Some("black".to_owned()) }))?;
//!
//! let name = "ed";
//! let ed: User = conn.execute(select!(User WHERE User::name == name))?.one()?;
//! assert_eq!(ed.hair_color.as_deref(), Some("black"));
//!
//! let no_color: Vec<User> = conn.execute(select!(User WHERE User::hair_color == None))?.all()?;
//! assert_eq!(no_color[0].name, "john");
//! # Ok::<(), quarry::Error>(())
//! ```
//!
//! ## Declaring tables
//!
//! `#[derive(Table)]` on a struct with named fields. Table attributes:
//! `#[table(name = "…")]` (default: the struct name in snake_case), `metadata = PATH` (a
//! `static` [`MetaData`]; default [`DEFAULT_METADATA`]), `primary_key(a, b)` (a composite key).
//! Column attributes: `primary_key` (a single integer primary key is autoincrement unless
//! `autoincrement = false`; a key of any other type never is), `name = "…"`, `unique`, `index`, `max_length = N` (`VARCHAR(N)`),
//! `references = Table::column` (with `on_delete = "cascade"` / `on_update = "set null"`:
//! `cascade`, `set null`, `set default`, `restrict`, `no action`), `default = <literal>`
//! (server default), `sql_type = "…"`.
//! `Option<T>` fields are nullable. `insert!(T { … })` leaving out a `NOT NULL` column without
//! a default is a compile error listing the columns.
//!
//! `#[derive(SqlEnum)]` on an enum of unit variants makes it a column type ([`SqlEnum`]):
//! stored as its labels (`#[sql_enum(rename_all = "snake_case")]`, a variant's
//! `#[sql_enum(rename = "…")]`), or as a PostgreSQL enum type (`postgres_type = "name"`).
//! PostgreSQL arrays are `Vec<T>` columns ([`ArrayExpression`]); JSON columns have
//! `.get(key)` / `.get_text(key)` (`sql::JsonExpression`, cargo feature `serde_json`).
//!
//! ## Statements
//!
//! `select!([DISTINCT] items [FROM t, … [[LEFT [OUTER] | FULL [OUTER] | INNER] JOIN t ON cond]…] [WHERE cond]
//! [GROUP BY e, …] [HAVING cond] [ORDER BY e [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]
//! [FOR UPDATE|SHARE [OF t, …] [NOWAIT|SKIP LOCKED]])`, where the
//! items are a table (`User`), columns (`User::name`), expressions (`count(User::id)`,
//! `User::id + 1`, a nested `select!` as a scalar subquery) or an alias
//! ([`Table::alias`]); the row type follows the items (one item → a scalar or the table's
//! struct, several → a tuple, a left-joined table or column → `Option`). Without `FROM` the
//! tables come from the items, as in SQLAlchemy. Also `insert!(Table { column: value, … })`,
//! `update!(Table SET column = value, … [WHERE cond])`, `delete!(Table [WHERE cond])`, and on
//! the results `.returning(…)`, `.on_conflict(…).do_update()/.do_nothing()`, `.union(…)`,
//! `.union_all(…)`, `.intersect(…)`, `.except(…)`.
//!
//! Conditions use `== != < <= > >= && || !`, `== None` (`IS NULL`), `+ - * / %`, the
//! [`Expression`] methods (`like`, `in_` with a list or a subquery, `between`, …), the SQL
//! functions of [`func`] and [`exists`]. A path `Table::column` is a column; any other Rust
//! expression is bound as a parameter. A column of a table the statement does not name is a
//! compile error; a nested `select!` may use the enclosing statement's tables (a correlated
//! subquery). Keywords are upper case (lower case is accepted; write a variable that shares a
//! keyword's name as `{limit}`).
//!
//! ```
//! use quarry::prelude::*;
//!
//! #[derive(Table, Debug, PartialEq)]
//! #[table(name = "users")]
//! struct User {
//!     #[column(primary_key)]
//!     id: i64,
//!     name: String,
//! }
//! #[derive(Table, Debug, PartialEq)]
//! #[table(name = "posts")]
//! struct Post {
//!     #[column(primary_key)]
//!     id: i64,
//!     #[column(references = User::id)]
//!     user_id: i64,
//!     title: String,
//! }
//!
//! let engine = create_engine("sqlite://")?;
//! DEFAULT_METADATA.create_all(&engine)?;
//! let mut conn = engine.connect()?;
//! conn.execute(insert!(User { name: "ed" }))?;
//! conn.execute(insert!(User { name: "mary" }))?;
//! conn.execute(insert!(Post { user_id: 1, title: "hello" }))?;
//!
//! let counts: Vec<(String, i64)> = conn
//!     .execute(select!(User::name, count(Post::id) FROM User
//!         LEFT JOIN Post ON Post::user_id == User::id
//!         GROUP BY User::name ORDER BY User::name))?
//!     .all()?;
//! assert_eq!(counts, [("ed".to_owned(), 1), ("mary".to_owned(), 0)]);
//!
//! let silent: Vec<User> = conn
//!     .execute(select!(User WHERE !exists(select!(Post WHERE Post::user_id == User::id))))?
//!     .all()?;
//! assert_eq!(silent, [User { id: 2, name: "mary".into() }]);
//! # Ok::<(), quarry::Error>(())
//! ```
//!
//! The same statements through builders: `User::select().filter(User::name.eq("ed"))
//! .order_by(User::id.desc()).limit(10)`, `quarry::select((User::name, func::count(Post::id)))
//! .left_join(Post::table(), Post::user_id.eq(User::id)).group_by(User::name)`,
//! `User::insert(&user)`, `User::insert_many(&users)`, `User::update().set(User::name, "ed")`,
//! `User::delete().filter(…)`.
//!
//! Each macro call site renders its SQL once per dialect and keeps it in a `static`
//! [`SqlCache`]; later executions only collect the new parameter values.
//!
//! Every statement [`Compile`]s for a [`dialect`] to a [`Compiled`] (SQL + parameters).
//!
//! Raw SQL goes through [`text`], with SQLAlchemy's `:name` binds
//! (`text("SELECT * FROM users WHERE name = :name").bind("name", "ed")`); its rows are dynamic
//! [`Row`]s read by column name or index, or typed with `.columns::<(i64, String)>()`.
#![warn(missing_docs)]

pub use quarry_core::*;
pub use quarry_macros::{SqlEnum, Table, delete, embed_migrations, insert, select, update};
/// Schema migrations: [`migrate::diff`] of declared tables against a live database, the
/// [`migrate::Plan`] and its SQL per dialect, the [`migrate::Migrator`] of versioned files and
/// [`migrate::autogenerate`]. See the README's "Changing the schema".
pub use quarry_runtime::migrate;
pub use quarry_runtime::*;

/// SQL dialects (from `quarry-core`: pure, no I/O) and the registry through which third-party
/// dialects and drivers join in-process (from the engine, `quarry-runtime`).
pub mod dialect {
    pub use quarry_core::dialect::*;
    pub use quarry_runtime::registry::{DriverFactory, register, registered, unregister};
}

/// The async engine on tokio (cargo feature `tokio`): [`asyncio::create_async_engine`],
/// [`asyncio::AsyncEngine`], connections, transactions and streams over the same statements
/// and core as the blocking engine. See the README's "Async".
#[cfg(feature = "tokio")]
pub mod asyncio {
    pub use quarry_async::*;
}

/// Everything needed to declare tables and run statements: `use quarry::prelude::*;`.
pub mod prelude {
    /// `.contains(…)` / `.any(…)` on array columns.
    pub use quarry_core::ArrayExpression;
    pub use quarry_core::RetryPolicy;
    /// `.contains(…)` / `.startswith(…)` / `.endswith(…)` / `.ilike(…)` on text.
    pub use quarry_core::TextExpression;
    /// `.over(…)` on window functions and aggregates, `.filter(…)` on aggregates.
    pub use quarry_core::func::{AggregateFilter as _, Window as _};
    /// `.get(key)` / `.get_text(key)` on JSON columns.
    #[cfg(feature = "serde_json")]
    pub use quarry_core::sql::JsonExpression;
    pub use quarry_core::{
        Alias, Compile, Compound, DEFAULT_METADATA, Delete, Error, Expression, FromRow, Insert,
        Insertable, IsolationLevel, MetaData, Row, Select, SqlEnum, Table, Update, Upsert, all,
        excluded, exists, func, nullable, select, text,
    };
    pub use quarry_macros::{SqlEnum, Table, delete, insert, select, update};
    pub use quarry_runtime::{
        BoundMetaData, Connection, Engine, Execute, MetaDataDdl, PoolClass, Rows, Session,
        Strategy, TableDdl, create_engine, sessionmaker,
    };
}
