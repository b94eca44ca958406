//! A session's flush as a plan: which statements run, in which order, and what their results
//! change.
//!
//! Given the rows queued for insertion and the rows queued for deletion, [`FlushPlan::new`]
//! orders the work: inserts parents before children by foreign key (add order within a table),
//! then deletes children before parents. Each [`InsertStep`] says whether the database assigns
//! the row's key (an autoincrement key left `0`), turns the driver's last insert id into that
//! key or an error, and names the row's [`IdentityKey`] once its key is known; each
//! [`DeleteStep`] holds its `DELETE … WHERE <key> = ?` and the identity it removes. The
//! engine runs the steps in order on its connections and stops at the first error: the
//! session then rolls its transactions back and forgets all of its work (pending objects,
//! identity map, the keys handed out in those transactions), as SQLAlchemy's rollback after
//! a failed flush. Handed-out keys become visible only after every step succeeded.
//!
//! Nothing here does I/O; the rows themselves stay the engine's (any `R` that can say its
//! table and key, [`QueuedRow`]).

use crate::error::{Error, Result};
use crate::schema::{ColumnDef, TableDef, sort_by_dependency};
use crate::sql::{BinOp, Delete, Expr, SqlExpr, TableRef};
use crate::value::Value;

/// A row queued for insertion, as the plan sees it.
pub trait QueuedRow {
    /// Its table.
    fn table(&self) -> &'static TableDef;
    /// Its primary key's values as queued (an autoincrement key not yet assigned is `0`).
    fn primary_key(&self) -> Vec<Value>;
}

/// A row queued for deletion: its table and primary key.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedDelete {
    /// The table.
    pub table: &'static TableDef,
    /// The primary key's values.
    pub key: Vec<Value>,
}

impl QueuedDelete {
    /// Can the row be deleted by its key?
    ///
    /// # Errors
    /// [`Error::Config`] for a table without a primary key, or an autoincrement key still `0`
    /// (the row was never flushed, so the database has no row for it).
    pub fn check(&self) -> Result<()> {
        let name = self.table.name();
        if self.key.is_empty() {
            return Err(Error::config(format!(
                "cannot delete a {name} row: the table has no primary key to find it by"
            )));
        }
        if autoincrement_column(self.table).is_some() && is_unset(&self.key) {
            return Err(Error::config(format!(
                "cannot delete the {name} row with primary key 0: it was never flushed, so the \
                 database has no row for it"
            )));
        }
        Ok(())
    }
}

/// The first queued delete that cannot be (see [`QueuedDelete::check`]): a flush refuses it
/// before running anything.
pub fn first_refused(deletes: &[QueuedDelete]) -> Option<usize> {
    deletes.iter().position(|d| d.check().is_err())
}

/// The work of one flush, in the order it runs.
#[derive(Debug)]
pub struct FlushPlan<R> {
    steps: Vec<FlushStep<R>>,
}

/// One statement of a flush.
#[derive(Debug)]
pub enum FlushStep<R> {
    /// Insert a row.
    Insert(InsertStep<R>),
    /// Delete a row by its key.
    Delete(DeleteStep),
}

/// Insert `row` into `table`.
#[derive(Debug)]
pub struct InsertStep<R> {
    /// The queued row.
    pub row: R,
    /// Its table.
    pub table: &'static TableDef,
    /// The database assigns the row's autoincrement key: read it back with
    /// [`InsertStep::assigned_key`] and write it into the row.
    pub assigns_key: bool,
}

impl<R> InsertStep<R> {
    /// The key the database assigned, from the insert's last insert id: `None` when it
    /// assigns none ([`InsertStep::assigns_key`] is false).
    ///
    /// # Errors
    /// [`Error::Config`] when a key was to be assigned and the database did not report it.
    pub fn assigned_key(&self, last_insert_id: Option<i64>) -> Result<Option<i64>> {
        if !self.assigns_key {
            return Ok(None);
        }
        last_insert_id.map(Some).ok_or_else(|| {
            Error::config(format!(
                "the database did not report the key it assigned to the new {} row",
                self.table.name()
            ))
        })
    }

    /// Where the inserted row, with primary key `key` (after any assigned key was written),
    /// enters the identity map: nowhere for a table without a primary key.
    pub fn identity(&self, key: &[Value]) -> Option<IdentityKey> {
        (!key.is_empty()).then(|| IdentityKey::new(self.table, key))
    }
}

/// Delete the row of `table` with primary key `key`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteStep {
    /// The table.
    pub table: &'static TableDef,
    /// The primary key's values.
    pub key: Vec<Value>,
}

impl DeleteStep {
    /// `DELETE FROM table WHERE pk1 = ? AND …`.
    pub fn statement(&self) -> Delete<()> {
        Delete::from_table(self.table).filter(key_condition(self.table, &self.key))
    }

    /// The identity the deleted row leaves (whether or not the map holds it).
    pub fn identity(&self) -> IdentityKey {
        IdentityKey::new(self.table, &self.key)
    }

    /// Whether the `DELETE`'s row count is what was expected (one row); a miss is worth a
    /// warning, not an error, as in SQLAlchemy.
    pub fn matched(&self, rowcount: u64) -> bool {
        rowcount != 0
    }
}

impl<R: QueuedRow> FlushPlan<R> {
    /// Order `inserts` and `deletes`: inserts first, parents before children by foreign key
    /// (the order of [`dependency_order`] over every table involved; add order within a
    /// table), then deletes, children before parents (queue order within a table). Refused
    /// deletes ([`first_refused`]) should have been taken out first.
    pub fn new(inserts: Vec<R>, deletes: Vec<QueuedDelete>) -> Self {
        let order = dependency_order(
            inserts
                .iter()
                .map(QueuedRow::table)
                .chain(deletes.iter().map(|d| d.table)),
        );
        let rank = |t: &'static TableDef| order.iter().position(|o| *o == t).unwrap_or(0);
        let mut inserts: Vec<(usize, R)> = inserts
            .into_iter()
            .map(|row| (rank(row.table()), row))
            .collect();
        let mut deletes = deletes;
        // Stable sorts: add order within a table is kept.
        inserts.sort_by_key(|(rank, _)| *rank);
        deletes.sort_by_key(|d| std::cmp::Reverse(rank(d.table)));

        let inserts = inserts.into_iter().map(|(_, row)| {
            let table = row.table();
            let assigns_key = autoincrement_column(table).is_some() && is_unset(&row.primary_key());
            FlushStep::Insert(InsertStep {
                row,
                table,
                assigns_key,
            })
        });
        let deletes = deletes
            .into_iter()
            .map(|QueuedDelete { table, key }| FlushStep::Delete(DeleteStep { table, key }));
        FlushPlan {
            steps: inserts.chain(deletes).collect(),
        }
    }
}

impl<R> FlushPlan<R> {
    /// The steps, in order.
    pub fn steps(&self) -> &[FlushStep<R>] {
        &self.steps
    }

    /// True when there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The inserts planned.
    pub fn inserts(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, FlushStep::Insert(_)))
            .count()
    }

    /// The deletes planned.
    pub fn deletes(&self) -> usize {
        self.steps.len() - self.inserts()
    }
}

impl<R> IntoIterator for FlushPlan<R> {
    type Item = FlushStep<R>;
    type IntoIter = std::vec::IntoIter<FlushStep<R>>;
    fn into_iter(self) -> Self::IntoIter {
        self.steps.into_iter()
    }
}

/// The distinct tables of `tables`, parents before children by foreign key (ties by name).
pub fn dependency_order(tables: impl Iterator<Item = &'static TableDef>) -> Vec<&'static TableDef> {
    let mut distinct: Vec<&'static TableDef> = Vec::new();
    for t in tables {
        if !distinct.contains(&t) {
            distinct.push(t);
        }
    }
    distinct.sort_by_key(|t| t.name());
    sort_by_dependency(distinct)
}

/// The table's autoincrement primary key column, when its key is that one column.
pub fn autoincrement_column(table: &'static TableDef) -> Option<&'static ColumnDef> {
    let mut pk = table.primary_key();
    let column = pk.next()?;
    (pk.next().is_none() && column.is_autoincrement()).then_some(column)
}

/// An autoincrement key still `0`: the database has not assigned it.
pub fn is_unset(key: &[Value]) -> bool {
    matches!(key, [Value::I16(0) | Value::I32(0) | Value::I64(0)])
}

/// Does `key` fit the table's primary key?
///
/// # Errors
/// [`Error::Config`] for a table without a primary key or a key of the wrong length.
pub fn check_arity(table: &'static TableDef, key: &[Value]) -> Result<()> {
    let columns: Vec<&str> = table.primary_key().map(|c| c.name()).collect();
    if columns.is_empty() {
        return Err(Error::config(format!(
            "table {} has no primary key to look rows up by",
            table.name()
        )));
    }
    if columns.len() != key.len() {
        return Err(Error::config(format!(
            "table {} has a primary key of {} column(s) ({}), but {} value(s) were given",
            table.name(),
            columns.len(),
            columns.join(", "),
            key.len()
        )));
    }
    Ok(())
}

/// `pk1 = ? AND pk2 = ? …` for the table's primary key columns and `key`'s values.
pub fn key_condition(table: &'static TableDef, key: &[Value]) -> Expr<bool> {
    let columns = table
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_primary_key())
        .map(|(index, _)| SqlExpr::Column {
            table: TableRef::new(table),
            index,
        });
    let condition = columns
        .zip(key)
        .map(|(column, value)| SqlExpr::binary(column, BinOp::Eq, SqlExpr::Param(value.clone())))
        .reduce(|a, b| SqlExpr::binary(a, BinOp::And, b));
    // `check_arity` / `QueuedDelete::check` rule out an empty key before this is called.
    Expr::new(condition.unwrap_or(SqlExpr::Param(Value::Bool(false))))
}

/// The identity map's key: the table (by address) and the primary key's values, with the
/// integer widths made one (so `get::<User>(1)` finds the `i64` key 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdentityKey {
    table: usize,
    key: Vec<KeyPart>,
}

/// One value of an [`IdentityKey`], normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyPart {
    Null,
    Int(i64),
    Float(u64),
    Text(String),
    Bytes(Vec<u8>),
}

impl IdentityKey {
    /// The identity of the row of `table` with primary key `key`.
    pub fn new(table: &'static TableDef, key: &[Value]) -> Self {
        IdentityKey {
            table: std::ptr::from_ref(table) as usize,
            key: key.iter().map(KeyPart::from).collect(),
        }
    }
}

impl From<&Value> for KeyPart {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => KeyPart::Null,
            Value::Bool(b) => KeyPart::Int(i64::from(*b)),
            Value::I16(i) => KeyPart::Int(i64::from(*i)),
            Value::I32(i) => KeyPart::Int(i64::from(*i)),
            Value::I64(i) => KeyPart::Int(*i),
            Value::F32(f) => KeyPart::Float(f64::from(*f).to_bits()),
            Value::F64(f) => KeyPart::Float(f.to_bits()),
            Value::Text(s) | Value::Json(s) | Value::Decimal(s) => KeyPart::Text(s.clone()),
            Value::Blob(b) => KeyPart::Bytes(b.clone()),
            Value::Uuid(u) => KeyPart::Bytes(u.to_vec()),
            Value::Date(d) => KeyPart::Int(i64::from(*d)),
            Value::Time(t) | Value::Timestamp(t) | Value::TimestampTz(t) => KeyPart::Int(*t),
            // A kind of value newer than this map: its debug form is as stable an identity.
            #[allow(unreachable_patterns)] // `Value` is `#[non_exhaustive]` for other crates
            other => KeyPart::Text(format!("{other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Sqlite;
    use crate::schema::{ColumnRef, DEFAULT_METADATA};
    use crate::sql::Compile;
    use crate::value::SqlType;

    static USER_COLUMNS: [ColumnDef; 2] = [
        ColumnDef::new("id", "id", SqlType::BigInt, false)
            .primary_key()
            .autoincrement(),
        ColumnDef::new("name", "name", SqlType::Text, false),
    ];
    static USERS: TableDef = TableDef::new("users", &USER_COLUMNS, &DEFAULT_METADATA);

    fn users() -> &'static TableDef {
        &USERS
    }

    // Named to sort before "users", so that only the foreign key puts it after.
    static POST_COLUMNS: [ColumnDef; 2] = [
        ColumnDef::new("id", "id", SqlType::BigInt, false)
            .primary_key()
            .autoincrement(),
        ColumnDef::new("user_id", "user_id", SqlType::BigInt, false)
            .references(ColumnRef::new(users, 0)),
    ];
    static POSTS: TableDef = TableDef::new("a_posts", &POST_COLUMNS, &DEFAULT_METADATA);

    static TAG_COLUMNS: [ColumnDef; 2] = [
        ColumnDef::new("owner", "owner", SqlType::Text, false).primary_key(),
        ColumnDef::new("name", "name", SqlType::Text, false).primary_key(),
    ];
    static TAGS: TableDef = TableDef::new("tags", &TAG_COLUMNS, &DEFAULT_METADATA);

    static LOG_COLUMNS: [ColumnDef; 1] = [ColumnDef::new("line", "line", SqlType::Text, false)];
    static LOG: TableDef = TableDef::new("log", &LOG_COLUMNS, &DEFAULT_METADATA);

    /// A queued row: its table, its key, and a label to follow it through the plan.
    #[derive(Debug)]
    struct Row(&'static TableDef, Vec<Value>, &'static str);

    impl QueuedRow for Row {
        fn table(&self) -> &'static TableDef {
            self.0
        }
        fn primary_key(&self) -> Vec<Value> {
            self.1.clone()
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn new_row(table: &'static TableDef, label: &'static str) -> Row {
        Row(table, vec![Value::I64(0)], label)
    }

    fn delete(table: &'static TableDef, id: i64) -> QueuedDelete {
        QueuedDelete {
            table,
            key: vec![Value::I64(id)],
        }
    }

    /// The plan as `insert <label>` / `delete <table> <key>` lines.
    fn lines(plan: &FlushPlan<Row>) -> Vec<String> {
        plan.steps()
            .iter()
            .map(|step| match step {
                FlushStep::Insert(s) => format!("insert {}", s.row.2),
                FlushStep::Delete(s) => format!("delete {} {:?}", s.table.name(), s.key),
            })
            .collect()
    }

    #[test]
    fn inserts_run_parents_first_in_add_order_then_deletes_children_first() {
        let plan = FlushPlan::new(
            vec![
                new_row(&POSTS, "post 1"),
                new_row(&USERS, "ed"),
                new_row(&POSTS, "post 2"),
                new_row(&USERS, "wendy"),
            ],
            vec![delete(&USERS, 7), delete(&POSTS, 8), delete(&USERS, 9)],
        );
        assert_eq!(
            lines(&plan),
            [
                "insert ed",
                "insert wendy",
                "insert post 1",
                "insert post 2",
                "delete a_posts [8]",
                "delete users [7]",
                "delete users [9]",
            ]
        );
    }

    #[test]
    fn unrelated_tables_run_in_name_order() {
        let plan = FlushPlan::new(
            vec![
                Row(&TAGS, vec![text("ed"), text("x")], "tag"),
                new_row(&USERS, "ed"),
                Row(&LOG, vec![], "line"),
            ],
            Vec::new(),
        );
        assert_eq!(lines(&plan), ["insert line", "insert tag", "insert ed"]);
    }

    #[test]
    fn nothing_queued_is_an_empty_plan() {
        assert!(FlushPlan::<Row>::new(Vec::new(), Vec::new()).is_empty());
    }

    #[test]
    fn only_an_unset_autoincrement_key_is_assigned_by_the_database() {
        let plan = FlushPlan::new(
            vec![
                new_row(&USERS, "new"),
                Row(&USERS, vec![Value::I64(5)], "given"),
                Row(&TAGS, vec![text("ed"), text("x")], "tag"),
            ],
            Vec::new(),
        );
        let assigns: Vec<bool> = plan
            .steps()
            .iter()
            .map(|s| match s {
                FlushStep::Insert(s) => s.assigns_key,
                FlushStep::Delete(_) => unreachable!(),
            })
            .collect();
        assert_eq!(assigns, [false, true, false]);
    }

    #[test]
    fn an_assigned_key_the_database_did_not_report_is_an_error() {
        let step = InsertStep {
            row: (),
            table: &USERS,
            assigns_key: true,
        };
        assert_eq!(step.assigned_key(Some(3)).unwrap(), Some(3));
        let e = step.assigned_key(None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the database did not report the key it assigned to the new \
             users row"
        );
        let given = InsertStep {
            assigns_key: false,
            ..step
        };
        assert_eq!(given.assigned_key(None).unwrap(), None);
    }

    #[test]
    fn a_flushed_row_enters_the_identity_map_unless_its_table_has_no_key() {
        let step = InsertStep {
            row: (),
            table: &USERS,
            assigns_key: true,
        };
        assert_eq!(
            step.identity(&[Value::I64(3)]),
            Some(IdentityKey::new(&USERS, &[Value::I32(3)]))
        );
        let keyless = InsertStep {
            row: (),
            table: &LOG,
            assigns_key: false,
        };
        assert_eq!(keyless.identity(&[]), None);
    }

    #[test]
    fn a_delete_step_deletes_by_key_and_removes_its_identity() {
        let step = DeleteStep {
            table: &TAGS,
            key: vec![text("ed"), text("x")],
        };
        let compiled = step.statement().compile(&Sqlite).unwrap();
        assert_eq!(
            compiled.sql(),
            "DELETE FROM tags WHERE tags.owner = ? AND tags.name = ?"
        );
        assert_eq!(compiled.params(), [text("ed"), text("x")]);
        assert_eq!(
            step.identity(),
            IdentityKey::new(&TAGS, &[text("ed"), text("x")])
        );
        assert!(step.matched(1) && !step.matched(0));
    }

    #[test]
    fn a_delete_of_a_never_flushed_or_keyless_row_is_refused() {
        let deletes = [
            delete(&USERS, 3),
            delete(&USERS, 0),
            QueuedDelete {
                table: &LOG,
                key: vec![],
            },
        ];
        assert_eq!(first_refused(&deletes), Some(1));
        assert_eq!(
            deletes[1].check().unwrap_err().to_string(),
            "cannot delete the users row with primary key 0: it was \
             never flushed, so the database has no row for it"
        );
        assert!(deletes[2].check().is_err());
        assert_eq!(first_refused(&deletes[..1]), None);
        // A key of 0 is a real key where the database does not assign keys.
        let tag = QueuedDelete {
            table: &TAGS,
            key: vec![Value::I64(0), Value::I64(0)],
        };
        assert!(tag.check().is_ok());
    }

    #[test]
    fn integer_keys_of_any_width_are_one_identity() {
        assert_eq!(
            IdentityKey::new(&USERS, &[Value::I32(1)]),
            IdentityKey::new(&USERS, &[Value::I64(1)])
        );
        assert_ne!(
            IdentityKey::new(&USERS, &[Value::I64(1)]),
            IdentityKey::new(&USERS, &[Value::Text("1".into())])
        );
        assert_ne!(
            IdentityKey::new(&USERS, &[Value::I64(1)]),
            IdentityKey::new(&POSTS, &[Value::I64(1)]),
            "tables are told apart"
        );
    }

    #[test]
    fn only_a_zero_integer_key_is_unset() {
        assert!(is_unset(&[Value::I64(0)]));
        assert!(is_unset(&[Value::I16(0)]));
        assert!(!is_unset(&[Value::I64(3)]));
        assert!(!is_unset(&[Value::I64(0), Value::I64(0)]));
        assert!(!is_unset(&[Value::Text("0".into())]));
    }

    #[test]
    fn a_key_must_fit_the_primary_key() {
        assert!(check_arity(&TAGS, &[text("ed"), text("x")]).is_ok());
        assert_eq!(
            check_arity(&TAGS, &[text("ed")]).unwrap_err().to_string(),
            "table tags has a primary key of 2 column(s) (owner, name), \
             but 1 value(s) were given"
        );
        assert!(check_arity(&LOG, &[]).is_err());
    }
}
