//! The parts of a table beyond its columns' own flags: what a foreign key does on delete and
//! update, indexes and unique constraints over several columns, and `CHECK` constraints.
//! Reflection ([`quarry::reflect`](https://docs.rs/quarry)) fills them from a live database;
//! tables built at run time may set them with [`TableDef::with_index`](crate::TableDef::with_index).

use std::borrow::Cow;
use std::fmt;

/// What a foreign key does when the row it references is deleted or its key updated
/// (`ON DELETE CASCADE`). Without one the database's default applies (`NO ACTION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FkAction {
    /// `CASCADE`: delete (update) the referencing rows too.
    Cascade,
    /// `SET NULL`: set the referencing column to `NULL`.
    SetNull,
    /// `SET DEFAULT`: set the referencing column to its default.
    SetDefault,
    /// `RESTRICT`: refuse at once.
    Restrict,
    /// `NO ACTION`: refuse at the end of the statement (the default).
    NoAction,
}

impl FkAction {
    /// The SQL words: `CASCADE`, `SET NULL`, …
    pub fn as_sql(self) -> &'static str {
        match self {
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
            FkAction::Restrict => "RESTRICT",
            FkAction::NoAction => "NO ACTION",
        }
    }

    /// Parse the SQL words as databases report them (any case, `_` or space between words).
    ///
    /// ```
    /// use quarry::FkAction;
    /// assert_eq!(FkAction::parse("set null"), Some(FkAction::SetNull));
    /// assert_eq!(FkAction::parse("sometimes"), None);
    /// ```
    pub fn parse(sql: &str) -> Option<FkAction> {
        let words = sql.trim().to_ascii_uppercase().replace('_', " ");
        Some(match words.as_str() {
            "CASCADE" => FkAction::Cascade,
            "SET NULL" => FkAction::SetNull,
            "SET DEFAULT" => FkAction::SetDefault,
            "RESTRICT" => FkAction::Restrict,
            "NO ACTION" => FkAction::NoAction,
            _ => return None,
        })
    }
}

impl fmt::Display for FkAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// An index, or a unique constraint, over one or more columns of a table, by name.
///
/// Single-column indexes named by SQLAlchemy's convention (`ix_<table>_<column>`) and
/// single-column unique constraints are flags of their column instead
/// ([`ColumnDef::index`](crate::ColumnDef::index), [`ColumnDef::unique`](crate::ColumnDef::unique)),
/// as the derive declares them.
///
/// ```
/// use quarry::IndexDef;
/// let ix = IndexDef::new("ix_books_author_title", ["author", "title"]).unique();
/// assert_eq!(ix.columns(), ["author", "title"]);
/// assert!(ix.is_unique() && !ix.is_constraint());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    name: Cow<'static, str>,
    columns: Vec<Cow<'static, str>>,
    unique: bool,
    constraint: bool,
}

impl IndexDef {
    /// A (non-unique) index named `name` over `columns`, in order.
    pub fn new<C: Into<Cow<'static, str>>>(
        name: impl Into<Cow<'static, str>>,
        columns: impl IntoIterator<Item = C>,
    ) -> Self {
        IndexDef {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            unique: false,
            constraint: false,
        }
    }
    /// A `UNIQUE` index.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    /// A table constraint `CONSTRAINT name UNIQUE (…)` rather than a `CREATE UNIQUE INDEX`
    /// (implies [`IndexDef::unique`]).
    pub fn constraint(mut self) -> Self {
        self.unique = true;
        self.constraint = true;
        self
    }
    /// The index's (or constraint's) name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The columns, in index order.
    pub fn columns(&self) -> Vec<&str> {
        self.columns.iter().map(|c| &**c).collect()
    }
    /// True for a unique index or constraint.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
    /// True for a `UNIQUE` table constraint.
    pub fn is_constraint(&self) -> bool {
        self.constraint
    }
}

/// A `CHECK` constraint as the database reports it (its expression in the database's own
/// spelling). Reflected for information; the diff does not compare them, since each database
/// rewrites the expression it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckDef {
    name: Option<Cow<'static, str>>,
    expression: Cow<'static, str>,
}

impl CheckDef {
    /// `CHECK (expression)`, with a constraint name when the database has one.
    pub fn new(name: Option<String>, expression: impl Into<Cow<'static, str>>) -> Self {
        CheckDef {
            name: name.map(Cow::Owned),
            expression: expression.into(),
        }
    }
    /// The constraint's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The checked expression, as the database spells it.
    pub fn expression(&self) -> &str {
        &self.expression
    }
}
