//! Tables, columns and the `MetaData` that collects them.
//!
//! `#[derive(Table)]` builds a [`TableDef`] in a `static` (every constructor here is a `const fn`)
//! and registers it with its [`MetaData`] at link time, so `META.tables()` knows every table of the
//! program without any call at start-up.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::constraint::{CheckDef, FkAction, IndexDef};
use crate::error::Result;
use crate::value::{EnumType, RawRow, SqlType, Value};

/// Decodes a Rust value from consecutive columns of a row, starting at `start`.
pub trait FromRow: Sized {
    /// How many columns the value takes.
    fn width() -> usize;
    /// Decode from `row`, columns `start..start + width()`.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] naming the first column that did not fit.
    fn from_row(row: &dyn RawRow, start: usize) -> Result<Self>;
}

/// A single column decodes into its Rust type (`select!(count(User::id) FROM User)` is a
/// `Select<i64>`).
macro_rules! scalar_rows {
    ($($t:ty),*) => {$(
        impl FromRow for $t {
            fn width() -> usize {
                1
            }
            fn from_row(row: &dyn RawRow, start: usize) -> Result<Self> {
                crate::value::FromSql::from_sql(row, start)
            }
        }
    )*};
}
scalar_rows!(
    i16,
    i32,
    i64,
    f32,
    f64,
    bool,
    String,
    Vec<u8>,
    crate::value::Value
);
crate::value::feature_types!(scalar_rows);
crate::value::array_types!(scalar_rows);

/// `None` when every column of the value is `NULL`: a nullable column, or the table on the
/// right of a `LEFT OUTER JOIN` that found no row.
impl<T: FromRow> FromRow for Option<T> {
    fn width() -> usize {
        T::width()
    }
    fn from_row(row: &dyn RawRow, start: usize) -> Result<Self> {
        for idx in start..start + T::width() {
            if !row.is_null(idx)? {
                return T::from_row(row, start).map(Some);
            }
        }
        Ok(None)
    }
}

macro_rules! tuple_rows {
    ($($name:ident)+) => {
        /// Tuples decode item by item, left to right.
        impl<$($name: FromRow),+> FromRow for ($($name,)+) {
            fn width() -> usize {
                0 $(+ $name::width())+
            }
            #[allow(unused_assignments)]
            fn from_row(row: &dyn RawRow, start: usize) -> Result<Self> {
                let mut at = start;
                Ok(($({
                    let value = $name::from_row(row, at)?;
                    at += $name::width();
                    value
                },)+))
            }
        }
    };
}
tuple_rows!(A);
tuple_rows!(A B);
tuple_rows!(A B C);
tuple_rows!(A B C D);
tuple_rows!(A B C D E);
tuple_rows!(A B C D E F);
tuple_rows!(A B C D E F G);
tuple_rows!(A B C D E F G H);
tuple_rows!(A B C D E F G H I);
tuple_rows!(A B C D E F G H I J);
tuple_rows!(A B C D E F G H I J K);
tuple_rows!(A B C D E F G H I J K L);

/// Statements that return no rows decode into `()`.
impl FromRow for () {
    fn width() -> usize {
        0
    }
    fn from_row(_: &dyn RawRow, _: usize) -> Result<Self> {
        Ok(())
    }
}

/// A value that can be inserted as one row of its table.
pub trait Insertable {
    /// Append the row's `(column index, value)` pairs. An autoincrement primary key whose value is
    /// `0` is left out, so that the database assigns it (as MySQL does with `0`).
    fn values(&self, out: &mut Vec<(usize, Value)>);
}

/// `key` as the field type `T` of the autoincrement column `column`; what the derive's
/// [`Identity::set_autoincrement_key`] calls.
#[doc(hidden)]
pub fn autoincrement_key<T: crate::value::ColumnType>(column: &'static str, key: i64) -> Result<T> {
    T::from_sql(&KeyRow { column, key }, 0)
}

/// A one-column row holding an assigned key, so that the field type decodes it as it would a
/// column of a result.
struct KeyRow {
    column: &'static str,
    key: i64,
}

impl KeyRow {
    fn not_an(&self, expected: &'static str) -> crate::Error {
        crate::error::DecodeError::new(self.column, expected, "an integer").into_error()
    }
}

impl RawRow for KeyRow {
    fn len(&self) -> usize {
        1
    }
    fn name(&self, _: usize) -> &str {
        self.column
    }
    fn get_i64(&self, _: usize) -> Result<Option<i64>> {
        Ok(Some(self.key))
    }
    fn get_f64(&self, _: usize) -> Result<Option<f64>> {
        Err(self.not_an("a float"))
    }
    fn get_bool(&self, _: usize) -> Result<Option<bool>> {
        Err(self.not_an("a boolean"))
    }
    fn get_text(&self, _: usize) -> Result<Option<String>> {
        Err(self.not_an("text"))
    }
    fn get_blob(&self, _: usize) -> Result<Option<Vec<u8>>> {
        Err(self.not_an("bytes"))
    }
    fn get_value(&self, _: usize) -> Result<Value> {
        Ok(Value::I64(self.key))
    }
    fn is_null(&self, _: usize) -> Result<bool> {
        Ok(false)
    }
}

/// A literal server default (`#[column(default = …)]`), rendered inline into DDL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string literal.
    Text(&'static str),
    /// A boolean literal.
    Bool(bool),
}

/// A reference to a column of some table, resolvable in a `static`.
#[derive(Clone, Copy)]
pub struct ColumnRef {
    table: fn() -> &'static TableDef,
    index: usize,
}

impl ColumnRef {
    /// Column `index` of the table `table` returns.
    pub const fn new(table: fn() -> &'static TableDef, index: usize) -> Self {
        ColumnRef { table, index }
    }
    /// The table.
    pub fn table(&self) -> &'static TableDef {
        (self.table)()
    }
    /// The column.
    pub fn column(&self) -> &'static ColumnDef {
        &self.table().columns()[self.index]
    }
    /// The column's position in its table.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl fmt::Debug for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table().name(), self.column().name())
    }
}

/// The definition of one column. Built in a `static` by the derive (`const` constructors), or
/// at run time for a table defined by code ([`ColumnDef::named`]).
#[derive(Debug, Clone)]
pub struct ColumnDef {
    name: Cow<'static, str>,
    field: Cow<'static, str>,
    sql_type: SqlType,
    custom_type: Option<&'static str>,
    enum_type: Option<&'static EnumType>,
    nullable: bool,
    primary_key: bool,
    autoincrement: bool,
    unique: bool,
    index: bool,
    max_length: Option<u32>,
    default: Option<DefaultValue>,
    references: Option<ColumnRef>,
    on_delete: Option<FkAction>,
    on_update: Option<FkAction>,
    /// What only run-time columns have (reflected or built by code): owned type and default
    /// text, a foreign key by name. Boxed, so a declared column pays one pointer.
    run_time: Option<Box<RunTimeColumn>>,
}

/// The parts of a column only code at run time gives (reflection, migrations).
#[derive(Debug, Clone, Default, PartialEq)]
struct RunTimeColumn {
    /// A SQL type Quarry has no [`SqlType`] for, used as-is in DDL.
    type_sql: Option<String>,
    /// The type as the database reported it.
    raw_type: Option<String>,
    /// A server default as a SQL expression.
    server_default: Option<String>,
    /// `REFERENCES table (column)` by name.
    references: Option<(String, String)>,
    /// The foreign key constraint's name in the database.
    fk_name: Option<String>,
}

impl ColumnDef {
    /// A column named `name` in SQL and `field` in Rust.
    pub const fn new(
        name: &'static str,
        field: &'static str,
        sql_type: SqlType,
        nullable: bool,
    ) -> Self {
        ColumnDef {
            name: Cow::Borrowed(name),
            field: Cow::Borrowed(field),
            sql_type,
            custom_type: None,
            enum_type: None,
            nullable,
            primary_key: false,
            autoincrement: false,
            unique: false,
            index: false,
            max_length: None,
            default: None,
            references: None,
            on_delete: None,
            on_update: None,
            run_time: None,
        }
    }
    /// A column defined at run time, named `name` (its Rust field name too): for tables built
    /// by code (reflection, migrations, a schema read from configuration).
    ///
    /// ```
    /// use quarry::{ColumnDef, SqlType};
    ///
    /// let id = ColumnDef::named("id", SqlType::BigInt, false).primary_key().autoincrement();
    /// assert_eq!(id.name(), "id");
    /// ```
    pub fn named(name: impl Into<String>, sql_type: SqlType, nullable: bool) -> Self {
        let name: String = name.into();
        ColumnDef {
            field: Cow::Owned(name.clone()),
            ..ColumnDef::new("", "", sql_type, nullable).renamed(name)
        }
    }
    fn renamed(mut self, name: String) -> Self {
        self.name = Cow::Owned(name);
        self
    }
    /// Mark as (part of) the primary key.
    pub const fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }
    /// Let the database assign values (`SERIAL`, `AUTO_INCREMENT`, SQLite rowid).
    pub const fn autoincrement(mut self) -> Self {
        self.autoincrement = true;
        self
    }
    /// [`ColumnDef::autoincrement`] when the column's type is an integer, otherwise nothing:
    /// what a single-column primary key gets by default (SQLAlchemy's `autoincrement="auto"`),
    /// so that a `String` or UUID key stays an ordinary column whose values the rows give.
    pub const fn autoincrement_if_integer(self) -> Self {
        if self.sql_type.is_integer() {
            self.autoincrement()
        } else {
            self
        }
    }
    /// Add a `UNIQUE` constraint.
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    /// Add an index `ix_<table>_<column>`.
    pub const fn index(mut self) -> Self {
        self.index = true;
        self
    }
    /// `VARCHAR(n)` instead of `TEXT`.
    pub const fn max_length(mut self, n: u32) -> Self {
        self.max_length = Some(n);
        self
    }
    /// A server default.
    pub const fn default_value(mut self, v: DefaultValue) -> Self {
        self.default = Some(v);
        self
    }
    /// A SQL type spelled out by the user, used as-is in DDL.
    pub const fn custom_type(mut self, sql: &'static str) -> Self {
        self.custom_type = Some(sql);
        self
    }
    /// The column stores a `#[derive(SqlEnum)]` enum (`None`: it does not): text of the
    /// enum's labels, or its PostgreSQL type. The derive passes its field type's
    /// [`ColumnType::ENUM`](crate::ColumnType::ENUM).
    pub const fn enum_type(mut self, e: Option<&'static EnumType>) -> Self {
        self.enum_type = e;
        self
    }
    /// `FOREIGN KEY … REFERENCES` the given column.
    pub const fn references(mut self, target: ColumnRef) -> Self {
        self.references = Some(target);
        self
    }
    /// `ON DELETE action` for the foreign key.
    pub const fn on_delete(mut self, action: FkAction) -> Self {
        self.on_delete = Some(action);
        self
    }
    /// `ON UPDATE action` for the foreign key.
    pub const fn on_update(mut self, action: FkAction) -> Self {
        self.on_update = Some(action);
        self
    }

    fn run_time_mut(&mut self) -> &mut RunTimeColumn {
        self.run_time.get_or_insert_with(Default::default)
    }
    /// `FOREIGN KEY … REFERENCES table (column)` by name: for tables known at run time, whose
    /// parent may be a table Rust does not declare.
    ///
    /// ```
    /// use quarry::{ColumnDef, SqlType};
    /// let author = ColumnDef::named("author_id", SqlType::BigInt, false).references_named("authors", "id");
    /// assert_eq!(author.references_table(), Some(("authors", "id")));
    /// ```
    pub fn references_named(mut self, table: impl Into<String>, column: impl Into<String>) -> Self {
        self.run_time_mut().references = Some((table.into(), column.into()));
        self
    }
    /// The name of the foreign key constraint in the database (what reflection reads, what a
    /// migration drops).
    pub fn foreign_key_name(mut self, name: impl Into<String>) -> Self {
        self.run_time_mut().fk_name = Some(name.into());
        self
    }
    /// The same column with or without autoincrement.
    pub fn with_autoincrement(mut self, on: bool) -> Self {
        self.autoincrement = on;
        self
    }
    /// The same column without a foreign key.
    pub fn without_foreign_key(mut self) -> Self {
        self.references = None;
        self.on_delete = None;
        self.on_update = None;
        if let Some(rt) = &mut self.run_time {
            rt.references = None;
            rt.fk_name = None;
        }
        self
    }
    /// A SQL type spelled out at run time, used as-is in DDL (a reflected type Quarry has no
    /// [`SqlType`] for: `inet`, an enum type, `CHAR(3)`).
    pub fn type_sql(mut self, sql: impl Into<String>) -> Self {
        self.run_time_mut().type_sql = Some(sql.into());
        self
    }
    /// The type as the database reported it (`character varying(50)`); kept by reflection,
    /// never used in DDL.
    pub fn raw_type(mut self, sql: impl Into<String>) -> Self {
        self.run_time_mut().raw_type = Some(sql.into());
        self
    }
    /// A server default given as SQL (`'en'`, `CURRENT_TIMESTAMP`), used as-is in DDL; what
    /// reflection reads. A literal given with [`ColumnDef::default_value`] wins over it.
    pub fn server_default(mut self, sql: impl Into<String>) -> Self {
        self.run_time_mut().server_default = Some(sql.into());
        self
    }
    /// The same column under another name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let name: String = name.into();
        self.field = Cow::Owned(name.clone());
        self.renamed(name)
    }
    /// The same column, nullable or not.
    pub fn with_nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }
    /// The same column with another type (and no type spelled out).
    pub fn with_type(mut self, sql_type: SqlType, max_length: Option<u32>) -> Self {
        self.sql_type = sql_type;
        self.max_length = max_length;
        self.custom_type = None;
        if let Some(rt) = &mut self.run_time {
            rt.type_sql = None;
        }
        self
    }
    /// The same column without a server default.
    pub fn without_default(mut self) -> Self {
        self.default = None;
        if let Some(rt) = &mut self.run_time {
            rt.server_default = None;
        }
        self
    }

    /// SQL name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Rust field name.
    pub fn field(&self) -> &str {
        &self.field
    }
    /// SQL type.
    pub fn sql_type(&self) -> SqlType {
        self.sql_type
    }
    /// User-given SQL type, if any: `#[column(sql_type = "…")]` or [`ColumnDef::type_sql`].
    pub fn custom_type_name(&self) -> Option<&str> {
        self.custom_type
            .or_else(|| self.run_time.as_ref()?.type_sql.as_deref())
    }
    /// The type as the database reported it, for a reflected column.
    pub fn raw_type_name(&self) -> Option<&str> {
        self.run_time.as_ref()?.raw_type.as_deref()
    }
    /// Server default as SQL ([`ColumnDef::server_default`]), if given.
    pub fn server_default_sql(&self) -> Option<&str> {
        self.run_time.as_ref()?.server_default.as_deref()
    }
    /// The referenced table and column, by name, for a foreign key declared either way
    /// ([`ColumnDef::references`] or [`ColumnDef::references_named`]).
    pub fn references_table(&self) -> Option<(&str, &str)> {
        if let Some(target) = &self.references {
            return Some((target.table().name(), target.column().name()));
        }
        let (t, c) = self.run_time.as_ref()?.references.as_ref()?;
        Some((t, c))
    }
    /// The foreign key constraint's name, when known ([`ColumnDef::foreign_key_name`]).
    pub fn foreign_key_name_value(&self) -> Option<&str> {
        self.run_time.as_ref()?.fk_name.as_deref()
    }
    /// `ON DELETE` action of the foreign key, if given.
    pub fn on_delete_action(&self) -> Option<FkAction> {
        self.on_delete
    }
    /// `ON UPDATE` action of the foreign key, if given.
    pub fn on_update_action(&self) -> Option<FkAction> {
        self.on_update
    }
    /// The enum the column stores, if it stores one.
    pub fn enum_def(&self) -> Option<&'static EnumType> {
        self.enum_type
    }
    /// True when `NULL` is allowed.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    /// True when part of the primary key.
    pub fn is_primary_key(&self) -> bool {
        self.primary_key
    }
    /// True when the database assigns the value.
    pub fn is_autoincrement(&self) -> bool {
        self.autoincrement
    }
    /// True with a `UNIQUE` constraint.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
    /// True with an index.
    pub fn has_index(&self) -> bool {
        self.index
    }
    /// `max_length`, if given.
    pub fn max_length_value(&self) -> Option<u32> {
        self.max_length
    }
    /// Server default, if given.
    pub fn default(&self) -> Option<DefaultValue> {
        self.default
    }
    /// Referenced column, if this is a foreign key.
    pub fn foreign_key(&self) -> Option<ColumnRef> {
        self.references
    }
}

/// The definition of a table: its name, columns and metadata. The derive builds one in a
/// `static` ([`TableDef::new`]); code builds one at run time ([`TableDef::build`]) and
/// registers it with [`MetaData::define`].
#[derive(Debug)]
pub struct TableDef {
    name: Cow<'static, str>,
    columns: Cow<'static, [ColumnDef]>,
    metadata: &'static MetaData,
    /// How the source names `metadata` (`META`, `crate::db::META`), for messages.
    metadata_path: &'static str,
    /// Indexes and unique constraints over several columns (or not named by the convention).
    indexes: Vec<IndexDef>,
    /// `CHECK` constraints, as reflected.
    checks: Vec<CheckDef>,
}

impl TableDef {
    /// A table named `name` in `metadata`.
    pub const fn new(
        name: &'static str,
        columns: &'static [ColumnDef],
        metadata: &'static MetaData,
    ) -> Self {
        TableDef {
            name: Cow::Borrowed(name),
            columns: Cow::Borrowed(columns),
            metadata,
            metadata_path: "MetaData",
            indexes: Vec::new(),
            checks: Vec::new(),
        }
    }
    /// A table defined at run time, named `name`, with `columns`, in `metadata`: pass it to
    /// [`MetaData::define`] to use it in statements. A foreign key may reference a declared
    /// table (`#[derive(Table)]`); nothing can reference a table defined at run time.
    ///
    /// ```
    /// use quarry::{ColumnDef, DEFAULT_METADATA, SqlType, TableDef};
    ///
    /// let events = TableDef::build(
    ///     "events",
    ///     vec![
    ///         ColumnDef::named("id", SqlType::BigInt, false).primary_key().autoincrement(),
    ///         ColumnDef::named("kind", SqlType::Text, false),
    ///     ],
    ///     &DEFAULT_METADATA,
    /// );
    /// assert_eq!(events.column("kind").map(|c| c.is_nullable()), Some(false));
    /// ```
    pub fn build(
        name: impl Into<String>,
        columns: Vec<ColumnDef>,
        metadata: &'static MetaData,
    ) -> Self {
        TableDef {
            name: Cow::Owned(name.into()),
            columns: Cow::Owned(columns),
            metadata,
            metadata_path: "MetaData",
            indexes: Vec::new(),
            checks: Vec::new(),
        }
    }
    /// Record how the source names the table's `MetaData` (the derive passes the path of
    /// `#[table(metadata = …)]`), so that messages can say `call META.bind(&engine)`.
    pub const fn metadata_path(mut self, path: &'static str) -> Self {
        self.metadata_path = path;
        self
    }
    /// Add an index or unique constraint over several columns ([`IndexDef`]).
    pub fn with_index(mut self, index: IndexDef) -> Self {
        self.indexes.push(index);
        self
    }
    /// Add a `CHECK` constraint ([`CheckDef`]).
    pub fn with_check(mut self, check: CheckDef) -> Self {
        self.checks.push(check);
        self
    }
    /// A table defined at run time with this one's columns, indexes and checks, named `name`,
    /// in the same `MetaData` (not registered there).
    pub fn clone_as(&self, name: impl Into<String>) -> TableDef {
        let mut copy = TableDef::build(name, self.columns.to_vec(), self.metadata);
        copy.indexes = self.indexes.clone();
        copy.checks = self.checks.clone();
        copy.metadata_path = self.metadata_path;
        copy
    }
    /// Indexes and unique constraints beyond the columns' own flags.
    pub fn indexes(&self) -> &[IndexDef] {
        &self.indexes
    }
    /// `CHECK` constraints (reflected).
    pub fn checks(&self) -> &[CheckDef] {
        &self.checks
    }
    /// SQL name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Columns in declaration order.
    pub fn columns(&self) -> &[ColumnDef] {
        &self.columns
    }
    /// The column with this SQL name.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// Primary key columns, in declaration order.
    pub fn primary_key(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns.iter().filter(|c| c.primary_key)
    }
    /// Columns with a foreign key, with the column each references.
    pub fn foreign_keys(&self) -> impl Iterator<Item = (&ColumnDef, ColumnRef)> {
        self.columns
            .iter()
            .filter_map(|c| c.references.map(|r| (c, r)))
    }
    /// The `MetaData` the table belongs to.
    pub fn metadata(&self) -> &'static MetaData {
        self.metadata
    }
    /// How the source names the table's `MetaData`: `META`, `crate::db::META`,
    /// `quarry::DEFAULT_METADATA`.
    pub fn metadata_name(&self) -> &'static str {
        self.metadata_path
    }
}

/// A table is its `static`: two definitions are equal only when they are the same one.
impl PartialEq for TableDef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for TableDef {}

/// A collection of tables, known at link time.
///
/// ```
/// use quarry::prelude::*;
///
/// pub static META: MetaData = MetaData::new();
///
/// #[derive(Table)]
/// #[table(name = "users", metadata = META)]
/// struct User {
///     #[column(primary_key)]
///     id: i64,
///     name: String,
/// }
///
/// let names: Vec<&str> = META.tables().iter().map(|t| t.name()).collect();
/// assert_eq!(names, ["users"]);
/// ```
///
/// A `MetaData` is identified by its address (it is never zero-sized, so no two `static`s
/// share one). An engine may *bind* it (`META.bind(&engine)`, in the engine crate) for
/// implicit execution.
#[derive(Debug)]
pub struct MetaData {
    /// Tables defined at run time ([`MetaData::define`]), in definition order. Also keeps the
    /// type from being zero-sized: two `static`s of a zero-sized type may share an address,
    /// and a `MetaData` is known by its address.
    defined: RwLock<Vec<Arc<TableDef>>>,
}

impl MetaData {
    /// An empty `MetaData`; tables join it through `#[table(metadata = …)]`.
    pub const fn new() -> Self {
        MetaData {
            defined: RwLock::new(Vec::new()),
        }
    }

    /// The tables of this `MetaData`, parents before the children that reference them; tables
    /// with no order between them come by name. Tables in a foreign-key cycle come last, by name.
    pub fn tables(&'static self) -> Vec<&'static TableDef> {
        let mut tables: Vec<&'static TableDef> = inventory::iter::<TableRegistration>
            .into_iter()
            .map(|reg| (reg.table)())
            .filter(|t| std::ptr::eq(t.metadata, self))
            .collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        sort_by_dependency(tables)
    }

    /// Register a table defined at run time ([`TableDef::build`]); its statements then run
    /// like any other's (rows come as [`Row`](crate::Row)s), and `create_all` / `drop_all`
    /// include it, after (before, for drops) the declared tables it may reference.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when the table belongs to another `MetaData`, or when this one
    /// already has a table of that name (declared or defined).
    pub fn define(&'static self, table: TableDef) -> Result<Arc<TableDef>> {
        if !std::ptr::eq(table.metadata, self) {
            return Err(crate::Error::config(format!(
                "table \"{}\" was built for another MetaData; build it with this one",
                table.name
            )));
        }
        let mut defined = self.defined.write().unwrap_or_else(PoisonError::into_inner);
        let taken = self.tables().iter().any(|t| t.name == table.name)
            || defined.iter().any(|t| t.name == table.name);
        if taken {
            return Err(crate::Error::config(format!(
                "this MetaData already has a table named \"{}\"",
                table.name
            )));
        }
        let table = Arc::new(table);
        defined.push(Arc::clone(&table));
        Ok(table)
    }

    /// The tables defined at run time, in definition order.
    pub fn defined_tables(&self) -> Vec<Arc<TableDef>> {
        self.defined
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forget the run-time table named `name`; statements that hold it keep working. True
    /// when there was one.
    pub fn undefine(&self, name: &str) -> bool {
        let mut defined = self.defined.write().unwrap_or_else(PoisonError::into_inner);
        let before = defined.len();
        defined.retain(|t| t.name != name);
        defined.len() != before
    }
}

impl Default for MetaData {
    fn default() -> Self {
        Self::new()
    }
}

/// The `MetaData` of tables declared without `#[table(metadata = …)]`.
pub static DEFAULT_METADATA: MetaData = MetaData::new();

/// Link-time registration of a table; emitted by `#[derive(Table)]`.
#[derive(Debug)]
pub struct TableRegistration {
    table: fn() -> &'static TableDef,
}

impl TableRegistration {
    /// Register the table `table` returns.
    pub const fn new(table: fn() -> &'static TableDef) -> Self {
        TableRegistration { table }
    }
}

inventory::collect!(TableRegistration);

/// Kahn's algorithm over foreign keys, always taking the first ready table in name order.
/// `tables` must be sorted by name.
pub fn sort_by_dependency(tables: Vec<&'static TableDef>) -> Vec<&'static TableDef> {
    let mut remaining = tables;
    let mut out = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|t| {
            t.foreign_keys().all(|(_, target)| {
                let parent = target.table();
                std::ptr::eq(parent, *t) || !remaining.iter().any(|r| std::ptr::eq(*r, parent))
            })
        });
        match ready {
            Some(i) => out.push(remaining.remove(i)),
            None => {
                // A cycle: no table is free of unsorted parents. Keep name order for the rest.
                out.append(&mut remaining);
            }
        }
    }
    out
}
