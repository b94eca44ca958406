//! Schema migrations, the pure part: the difference between two sets of tables as an ordered
//! list of [`Op`]s (a [`Plan`]), its SQL per dialect, and the lint that refuses destructive
//! operations until a human allowed them.
//!
//! The engine side (`quarry::migrate::diff(&META, &engine)`, `Migrator`, `autogenerate`)
//! reflects the live database and calls [`diff_tables`]; this module never does I/O.
//!
//! ```
//! use quarry::{ColumnDef, DefaultValue, SqlType, TableDef, DEFAULT_METADATA};
//! use quarry::migrate::{Op, diff_tables, Renames};
//! use std::sync::Arc;
//!
//! let live = TableDef::build("books", vec![
//!     ColumnDef::named("id", SqlType::BigInt, false).primary_key().autoincrement(),
//!     ColumnDef::named("title", SqlType::Text, false),
//! ], &DEFAULT_METADATA);
//! let declared = TableDef::build("books", vec![
//!     ColumnDef::named("id", SqlType::BigInt, false).primary_key().autoincrement(),
//!     ColumnDef::named("title", SqlType::Text, false),
//!     ColumnDef::named("language", SqlType::Text, false).max_length(8)
//!         .default_value(DefaultValue::Text("en")),
//! ], &DEFAULT_METADATA);
//! let plan = diff_tables(&[Arc::new(declared)], &[Arc::new(live)], &quarry::dialect::Postgres, &Renames::new());
//! assert!(matches!(&plan.ops()[0], Op::AddColumn { table, column } if table == "books" && column.name() == "language"));
//! assert_eq!(
//!     plan.sql(&quarry::dialect::Postgres)?,
//!     ["ALTER TABLE books ADD COLUMN language VARCHAR(8) DEFAULT 'en' NOT NULL"]
//! );
//! # Ok::<(), quarry::Error>(())
//! ```

mod diff;
mod enums;
mod lint;
mod split;
mod types;

use std::fmt;
use std::sync::Arc;

use crate::constraint::IndexDef;
use crate::schema::{ColumnDef, TableDef};

/// The prefix of the table a SQLite rebuild copies into before it takes the old one's name.
pub const REBUILD_PREFIX: &str = "_quarry_tmp_";
pub use diff::diff_tables;
pub(crate) use enums::added_labels;
pub use enums::{diff_enums, diff_schema};
pub use lint::Hazard;
pub use split::split_statements;
pub use types::{DefaultLit, ReadType, column_default, mysql_type, postgres_type, sqlite_type};

/// One step of a migration. Tables are named; column and table definitions are carried whole
/// so that the step can be reversed and SQLite's table rebuild knows the full table.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Op {
    /// `CREATE TABLE` (with its foreign keys and indexes).
    CreateTable {
        /// The table to create.
        table: Arc<TableDef>,
    },
    /// `DROP TABLE`; `table` is the live definition (what reversing re-creates).
    DropTable {
        /// The table to drop, as it is.
        table: Arc<TableDef>,
    },
    /// `ALTER TABLE … RENAME TO …` (only from an explicit hint: renames are never guessed).
    RenameTable {
        /// The live name.
        from: String,
        /// The declared name.
        to: String,
    },
    /// `ALTER TABLE … ADD COLUMN`; the column's foreign key is a separate
    /// [`Op::AddForeignKey`].
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: ColumnDef,
    },
    /// `ALTER TABLE … DROP COLUMN`; `column` is the live definition.
    DropColumn {
        /// The table.
        table: String,
        /// The column, as it is.
        column: ColumnDef,
    },
    /// `ALTER TABLE … RENAME COLUMN` (only from an explicit hint).
    RenameColumn {
        /// The table.
        table: String,
        /// The live name.
        from: String,
        /// The declared name.
        to: String,
    },
    /// A change of type, nullability or server default of one column.
    AlterColumn {
        /// The table.
        table: String,
        /// The column as it is.
        from: ColumnDef,
        /// The column as declared.
        to: ColumnDef,
        /// What differs.
        changes: Vec<Change>,
    },
    /// The primary key changes its columns (SQLite rebuilds the table).
    AlterPrimaryKey {
        /// The table.
        table: String,
        /// The key's columns as they are (empty: none).
        from: Vec<String>,
        /// The key's columns as declared (empty: none).
        to: Vec<String>,
    },
    /// `CREATE [UNIQUE] INDEX`, or a `UNIQUE` constraint ([`IndexDef::is_constraint`]).
    AddIndex {
        /// The table.
        table: String,
        /// The index.
        index: IndexDef,
    },
    /// `DROP INDEX`, or drop a `UNIQUE` constraint.
    DropIndex {
        /// The table.
        table: String,
        /// The index, as it is.
        index: IndexDef,
    },
    /// Add the foreign key of `column` (its target and actions).
    AddForeignKey {
        /// The table.
        table: String,
        /// The column holding the foreign key.
        column: ColumnDef,
    },
    /// Drop the foreign key of `column`; `name` is the live constraint's name.
    DropForeignKey {
        /// The table.
        table: String,
        /// The column holding the foreign key, as it is.
        column: ColumnDef,
        /// The constraint's name in the database, when it reported one.
        name: Option<String>,
    },
    /// `CREATE TYPE … AS ENUM` (PostgreSQL): a native enum type a declared column uses and
    /// the database lacks, created before the tables.
    CreateEnum {
        /// The type's name.
        name: String,
        /// Its labels, in order.
        labels: Vec<String>,
    },
    /// A native enum type whose labels change. Labels only added (the old ones keeping their
    /// order) are `ALTER TYPE … ADD VALUE … BEFORE/AFTER`, in place; anything else — a label
    /// removed or moved — re-creates the type and converts `columns` to it (rows holding a
    /// removed label make that fail, inside the migration's transaction).
    AlterEnum {
        /// The type's name.
        name: String,
        /// The labels as they are.
        from: Vec<String>,
        /// The labels as declared.
        to: Vec<String>,
        /// The live columns of that type, `(table, column)`.
        columns: Vec<(String, String)>,
    },
    /// `DROP TYPE` of a native enum type no declared column uses any more, after the tables
    /// and columns that used it are gone.
    DropEnum {
        /// The type's name.
        name: String,
        /// Its labels (what reversing re-creates).
        labels: Vec<String>,
    },
}

/// What an [`Op::AlterColumn`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The SQL type (or length).
    Type,
    /// `NULL` / `NOT NULL`.
    Nullability,
    /// The server default.
    Default,
    /// Autoincrement or not (SQLite rebuilds the table, MySQL restates the column; PostgreSQL
    /// refuses with an error saying what to write by hand).
    Key,
}

impl Op {
    /// The table the step works on (the declared name for a rename).
    pub fn table(&self) -> &str {
        match self {
            Op::CreateTable { table } | Op::DropTable { table } => table.name(),
            Op::RenameTable { to, .. } => to,
            Op::AddColumn { table, .. }
            | Op::DropColumn { table, .. }
            | Op::RenameColumn { table, .. }
            | Op::AlterColumn { table, .. }
            | Op::AlterPrimaryKey { table, .. }
            | Op::AddIndex { table, .. }
            | Op::DropIndex { table, .. }
            | Op::AddForeignKey { table, .. }
            | Op::DropForeignKey { table, .. } => table,
            // Not a table: the enum type's name.
            Op::CreateEnum { name, .. }
            | Op::AlterEnum { name, .. }
            | Op::DropEnum { name, .. } => name,
        }
    }

    /// The step that undoes this one.
    pub fn reverse(&self) -> Op {
        match self.clone() {
            Op::CreateTable { table } => Op::DropTable { table },
            Op::DropTable { table } => Op::CreateTable { table },
            Op::RenameTable { from, to } => Op::RenameTable { from: to, to: from },
            Op::AddColumn { table, column } => Op::DropColumn { table, column },
            Op::DropColumn { table, column } => Op::AddColumn { table, column },
            Op::RenameColumn { table, from, to } => Op::RenameColumn {
                table,
                from: to,
                to: from,
            },
            Op::AlterColumn {
                table,
                from,
                to,
                changes,
            } => Op::AlterColumn {
                table,
                from: to,
                to: from,
                changes,
            },
            Op::AlterPrimaryKey { table, from, to } => Op::AlterPrimaryKey {
                table,
                from: to,
                to: from,
            },
            Op::AddIndex { table, index } => Op::DropIndex { table, index },
            Op::DropIndex { table, index } => Op::AddIndex { table, index },
            Op::AddForeignKey { table, column } => Op::DropForeignKey {
                table,
                column,
                name: None,
            },
            Op::DropForeignKey { table, column, .. } => Op::AddForeignKey { table, column },
            Op::CreateEnum { name, labels } => Op::DropEnum { name, labels },
            Op::DropEnum { name, labels } => Op::CreateEnum { name, labels },
            Op::AlterEnum {
                name,
                from,
                to,
                columns,
            } => Op::AlterEnum {
                name,
                from: to,
                to: from,
                columns,
            },
        }
    }
}

impl fmt::Display for Op {
    /// One line a human reads in a review: `add column books.language`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::CreateTable { table } => write!(f, "create table {}", table.name()),
            Op::DropTable { table } => write!(f, "drop table {}", table.name()),
            Op::RenameTable { from, to } => write!(f, "rename table {from} to {to}"),
            Op::AddColumn { table, column } => write!(f, "add column {table}.{}", column.name()),
            Op::DropColumn { table, column } => {
                write!(f, "drop column {table}.{}", column.name())
            }
            Op::RenameColumn { table, from, to } => {
                write!(f, "rename column {table}.{from} to {to}")
            }
            Op::AlterColumn {
                table, to, changes, ..
            } => {
                let what: Vec<&str> = changes
                    .iter()
                    .map(|c| match c {
                        Change::Type => "type",
                        Change::Nullability => "nullability",
                        Change::Default => "default",
                        Change::Key => "key",
                    })
                    .collect();
                write!(
                    f,
                    "alter column {table}.{} ({})",
                    to.name(),
                    what.join(", ")
                )
            }
            Op::AlterPrimaryKey { table, to, .. } => {
                write!(f, "alter primary key of {table} to ({})", to.join(", "))
            }
            Op::AddIndex { table, index } => write!(f, "add index {} on {table}", index.name()),
            Op::DropIndex { table, index } => {
                write!(f, "drop index {} on {table}", index.name())
            }
            Op::AddForeignKey { table, column } => {
                write!(f, "add foreign key {table}.{}", column.name())
            }
            Op::DropForeignKey { table, column, .. } => {
                write!(f, "drop foreign key {table}.{}", column.name())
            }
            Op::CreateEnum { name, labels } => {
                write!(f, "create enum type {name} ({})", labels.join(", "))
            }
            Op::AlterEnum { name, from, to, .. } => write!(
                f,
                "alter enum type {name} ({}) to ({})",
                from.join(", "),
                to.join(", ")
            ),
            Op::DropEnum { name, .. } => write!(f, "drop enum type {name}"),
        }
    }
}

/// Renames the diff cannot know: a table or column that is gone and another that is new may
/// be one renamed, or a drop and an add. Quarry never guesses (Alembic's known gap); say so.
///
/// ```
/// use quarry::migrate::Renames;
/// let renames = Renames::new().table("authors", "writers").column("books", "name", "title");
/// assert_eq!(renames.live_table("writers"), "authors");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Renames {
    tables: Vec<(String, String)>,
    columns: Vec<(String, String, String)>,
}

impl Renames {
    /// No renames.
    pub fn new() -> Self {
        Renames::default()
    }
    /// The live table `from` is the declared table `to`.
    pub fn table(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.tables.push((from.into(), to.into()));
        self
    }
    /// In the declared table `table`, the live column `from` is the declared column `to`.
    pub fn column(
        mut self,
        table: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        self.columns.push((table.into(), from.into(), to.into()));
        self
    }
    /// The live name of the declared table `declared`.
    pub fn live_table<'a>(&'a self, declared: &'a str) -> &'a str {
        self.tables
            .iter()
            .find(|(_, to)| to == declared)
            .map_or(declared, |(from, _)| from)
    }
    /// The live name of the declared column `column` of the declared table `table`.
    pub fn live_column<'a>(&'a self, table: &str, column: &'a str) -> &'a str {
        self.columns
            .iter()
            .find(|(t, _, to)| t == table && to == column)
            .map_or(column, |(_, from, _)| from)
    }
}

/// The ordered steps that take a live schema to the declared one: what
/// `quarry::migrate::diff(&META, &engine)` returns.
///
/// The order is safe for foreign keys: foreign keys and indexes are dropped first, tables
/// created parents first, columns added, altered and dropped, tables dropped children first,
/// then indexes and foreign keys added.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    ops: Vec<Op>,
    /// Per table changed in place, its live and declared definitions (for SQLite's rebuild).
    tables: Vec<(Arc<TableDef>, Arc<TableDef>)>,
    /// Row counts of the live tables, where known (for the lint's `NOT NULL` rule).
    rows: Vec<(String, u64)>,
    pub(crate) allow_destructive: bool,
}

impl Plan {
    pub(crate) fn new(ops: Vec<Op>, tables: Vec<(Arc<TableDef>, Arc<TableDef>)>) -> Self {
        Plan {
            ops,
            tables,
            rows: Vec::new(),
            allow_destructive: false,
        }
    }

    /// The steps, in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// True when the live schema already matches.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Record that the live table `table` holds `rows` rows, for the lint (a column made
    /// `NOT NULL` without a default fails on a table with rows).
    pub fn with_row_count(mut self, table: impl Into<String>, rows: u64) -> Self {
        self.rows.push((table.into(), rows));
        self
    }

    /// The live row count recorded for `table`.
    pub fn row_count(&self, table: &str) -> Option<u64> {
        self.rows.iter().find(|(t, _)| t == table).map(|(_, n)| *n)
    }

    /// Let [`Plan::sql`] produce destructive steps ([`Plan::hazards`]) after a human
    /// reviewed them. Default: refused.
    pub fn allow_destructive(mut self, allow: bool) -> Self {
        self.allow_destructive = allow;
        self
    }

    /// The steps that may lose data or fail on existing rows: drops, narrowing types,
    /// `NOT NULL` without a default on a table with rows.
    pub fn hazards(&self) -> Vec<Hazard> {
        lint::hazards(self)
    }

    /// The plan that undoes this one (the `down.sql` of a generated migration). It is allowed
    /// to be destructive: undoing an added column drops it.
    pub fn reverse(&self) -> Plan {
        Plan {
            ops: self.ops.iter().rev().map(Op::reverse).collect(),
            tables: self
                .tables
                .iter()
                .map(|(live, declared)| (Arc::clone(declared), Arc::clone(live)))
                .collect(),
            rows: Vec::new(),
            allow_destructive: true,
        }
    }

    /// The live and declared definitions of a table changed in place.
    pub fn table_defs(&self, declared_name: &str) -> Option<(&TableDef, &TableDef)> {
        self.tables
            .iter()
            .find(|(_, d)| d.name() == declared_name)
            .map(|(l, d)| (&**l, &**d))
    }
}

impl fmt::Display for Plan {
    /// One step per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for op in &self.ops {
            writeln!(f, "{op}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
