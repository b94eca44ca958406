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
//! `autoincrement = false`), `name = "…"`, `unique`, `index`, `max_length = N` (`VARCHAR(N)`),
//! `references = Table::column`, `default = <literal>` (server default), `sql_type = "…"`.
//! `Option<T>` fields are nullable.
//!
//! ## Statements
//!
//! `select!(Table [WHERE cond] [ORDER BY col [ASC|DESC], …] [LIMIT n] [OFFSET n])`,
//! `insert!(Table { column: value, … })`, `update!(Table SET column = value, … [WHERE cond])`
//! and `delete!(Table [WHERE cond])`. Conditions use `== != < <= > >= && || !`, `== None`
//! (`IS NULL`) and the [`Expression`] methods (`like`, `in_`, `between`, …). A path `Table::column` is a column; any other Rust
//! expression is bound as a parameter. Keywords are upper case (lower case is accepted; write a
//! variable that shares a keyword's name as `{limit}`). The same statements through builders:
//! `User::select().filter(User::name.eq("ed")).order_by(User::id.desc()).limit(10)`,
//! `User::insert(&user)`, `User::insert_many(&users)`, `User::update().set(User::name, "ed")`,
//! `User::delete().filter(…)`.
//!
//! Every statement [`Compile`]s for a [`dialect`] to a [`Compiled`] (SQL + parameters).
#![warn(missing_docs)]

pub use quarry_macros::{Table, delete, insert, select, update};
pub use quarry_runtime::*;

/// Everything needed to declare tables and run statements: `use quarry::prelude::*;`.
pub mod prelude {
    pub use quarry_macros::{Table, delete, insert, select, update};
    pub use quarry_runtime::{
        Compile, Connection, DEFAULT_METADATA, Engine, Error, Expression, MetaData, Rows, Table,
        create_engine,
    };
}
