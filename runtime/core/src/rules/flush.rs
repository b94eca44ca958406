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
use crate::sql::{BinOp, Delete, Expr, SqlExpr, TableRef, Update};
use crate::value::Value;

/// A row queued for insertion, as the plan sees it.
pub trait QueuedRow {
    /// Its table.
    fn table(&self) -> &'static TableDef;
    /// Its primary key's values as queued (an autoincrement key not yet assigned is `0`).
    fn primary_key(&self) -> Vec<Value>;
}

/// A row queued for deletion: its table and primary key, and the key of the row of the same
/// table it references, if the table references itself (`nodes.parent_id → nodes.id`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedDelete {
    /// The table.
    pub table: &'static TableDef,
    /// The primary key's values.
    pub key: Vec<Value>,
    /// The primary key of the row of the same table this row references (its parent), when
    /// the table has a foreign key to itself and the row's is not `NULL`: deletes within the
    /// table run children first. See [`QueuedDelete::parent_of`].
    pub parent: Option<Vec<Value>>,
}

impl QueuedDelete {
    /// The row of `table` with primary key `key`, referencing no row of its own table.
    pub fn new(table: &'static TableDef, key: Vec<Value>) -> Self {
        QueuedDelete {
            table,
            key,
            parent: None,
        }
    }

    /// The key of the row of `table` that a row with column values `values` (`(column index,
    /// value)`, as `Insertable::values` gives them) references through a foreign key of
    /// `table` to itself; `None` without such a key or when it is `NULL`.
    pub fn parent_of(table: &'static TableDef, values: &[(usize, Value)]) -> Option<Vec<Value>> {
        table.columns().iter().enumerate().find_map(|(index, col)| {
            let target = col.foreign_key()?;
            if !std::ptr::eq(target.table(), table) {
                return None;
            }
            match values.iter().find(|(i, _)| *i == index) {
                Some((_, Value::Null)) | None => None,
                Some((_, v)) => Some(vec![v.clone()]),
            }
        })
    }

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
    /// Replace a row in place: an object deleted and another added with the same primary key
    /// in one flush (SQLAlchemy's "row switch") is an `UPDATE` of the row, not a `DELETE`
    /// and an `INSERT`.
    Update(UpdateStep<R>),
    /// Delete a row by its key.
    Delete(DeleteStep),
}

/// Write `row` over the row of `table` with the same primary key: `UPDATE table SET … WHERE
/// <key> = ?`, every column but the key from the row's values.
#[derive(Debug)]
pub struct UpdateStep<R> {
    /// The added row.
    pub row: R,
    /// Its table.
    pub table: &'static TableDef,
    /// The primary key it shares with the deleted row.
    pub key: Vec<Value>,
}

impl<R> UpdateStep<R> {
    /// The `UPDATE`, given the row's `(column index, value)` pairs (`Insertable::values`);
    /// the key columns are left alone. A table of key columns only has nothing to update:
    /// `None`.
    pub fn statement(&self, values: Vec<(usize, Value)>) -> Option<Update<()>> {
        let columns = self.table.columns();
        let mut update = Update::table(self.table);
        let mut any = false;
        for (index, value) in values {
            if columns.get(index).is_some_and(|c| !c.is_primary_key()) {
                update = update.set_expr(index, SqlExpr::Param(value));
                any = true;
            }
        }
        any.then(|| update.filter(key_condition(self.table, &self.key)))
    }

    /// The identity the row keeps.
    pub fn identity(&self) -> IdentityKey {
        IdentityKey::new(self.table, &self.key)
    }

    /// Whether the `UPDATE` found the row (it should: the deleted object was loaded).
    pub fn matched(&self, rowcount: u64) -> bool {
        rowcount != 0
    }
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
    ///
    /// An insert whose (given) key equals a queued delete's in the same table is a row
    /// switch: the pair becomes one [`UpdateStep`], in the insert's place. Deletes within a
    /// table that references itself run children before their parents
    /// ([`QueuedDelete::parent`]).
    pub fn new(inserts: Vec<R>, deletes: Vec<QueuedDelete>) -> Self {
        let mut deletes = deletes;
        let switched: Vec<bool> = inserts
            .iter()
            .map(|row| {
                let key = row.primary_key();
                if key.is_empty() || is_unset(&key) {
                    return false;
                }
                let identity = IdentityKey::new(row.table(), &key);
                match deletes
                    .iter()
                    .position(|d| IdentityKey::new(d.table, &d.key) == identity)
                {
                    Some(at) => {
                        deletes.remove(at);
                        true
                    }
                    None => false,
                }
            })
            .collect();
        let order = dependency_order(
            inserts
                .iter()
                .map(QueuedRow::table)
                .chain(deletes.iter().map(|d| d.table)),
        );
        let rank = |t: &'static TableDef| order.iter().position(|o| *o == t).unwrap_or(0);
        let mut inserts: Vec<(usize, bool, R)> = inserts
            .into_iter()
            .zip(switched)
            .map(|(row, switch)| (rank(row.table()), switch, row))
            .collect();
        // Stable sorts: add order within a table is kept.
        inserts.sort_by_key(|(rank, _, _)| *rank);
        deletes.sort_by_key(|d| std::cmp::Reverse(rank(d.table)));
        let deletes = children_first(deletes);

        let inserts = inserts.into_iter().map(|(_, switch, row)| {
            let table = row.table();
            if switch {
                let key = row.primary_key();
                return FlushStep::Update(UpdateStep { row, table, key });
            }
            let assigns_key = autoincrement_column(table).is_some() && is_unset(&row.primary_key());
            FlushStep::Insert(InsertStep {
                row,
                table,
                assigns_key,
            })
        });
        let deletes = deletes
            .into_iter()
            .map(|QueuedDelete { table, key, .. }| FlushStep::Delete(DeleteStep { table, key }));
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
        self.steps
            .iter()
            .filter(|s| matches!(s, FlushStep::Delete(_)))
            .count()
    }

    /// The row switches planned (an object deleted and another added with its key).
    pub fn updates(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, FlushStep::Update(_)))
            .count()
    }
}

impl<R> IntoIterator for FlushPlan<R> {
    type Item = FlushStep<R>;
    type IntoIter = std::vec::IntoIter<FlushStep<R>>;
    fn into_iter(self) -> Self::IntoIter {
        self.steps.into_iter()
    }
}

/// `deletes` (already in table order) with each run of one table reordered so that a row is
/// deleted before the row of the same table it references; rows in a cycle keep queue order.
fn children_first(deletes: Vec<QueuedDelete>) -> Vec<QueuedDelete> {
    let mut out: Vec<QueuedDelete> = Vec::with_capacity(deletes.len());
    let mut rest = deletes.into_iter().peekable();
    while let Some(first) = rest.next() {
        let mut run = vec![first];
        while let Some(next) = rest.next_if(|d| std::ptr::eq(d.table, run[0].table)) {
            run.push(next);
        }
        // Queue order, each row preceded by its children (depth first); a cycle is cut
        // where it closes.
        let ids: Vec<IdentityKey> = run
            .iter()
            .map(|d| IdentityKey::new(d.table, &d.key))
            .collect();
        let parents: Vec<Option<IdentityKey>> = run
            .iter()
            .map(|d| d.parent.as_ref().map(|p| IdentityKey::new(d.table, p)))
            .collect();
        let mut order = Vec::with_capacity(run.len());
        let mut seen = vec![false; run.len()];
        for i in 0..run.len() {
            visit(i, &ids, &parents, &mut seen, &mut order);
        }
        let mut run: Vec<Option<QueuedDelete>> = run.into_iter().map(Some).collect();
        out.extend(order.into_iter().filter_map(|i| run[i].take()));
    }
    out
}

/// Push `i` after its children, depth first.
fn visit(
    i: usize,
    ids: &[IdentityKey],
    parents: &[Option<IdentityKey>],
    seen: &mut [bool],
    order: &mut Vec<usize>,
) {
    if seen[i] {
        return;
    }
    seen[i] = true;
    for child in 0..ids.len() {
        if parents[child].as_ref() == Some(&ids[i]) {
            visit(child, ids, parents, seen, order);
        }
    }
    order.push(i);
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

    fn nodes() -> &'static TableDef {
        &NODES
    }
    static NODE_COLUMNS: [ColumnDef; 2] = [
        ColumnDef::new("id", "id", SqlType::BigInt, false)
            .primary_key()
            .autoincrement(),
        ColumnDef::new("parent_id", "parent_id", SqlType::BigInt, true)
            .references(ColumnRef::new(nodes, 0)),
    ];
    static NODES: TableDef = TableDef::new("nodes", &NODE_COLUMNS, &DEFAULT_METADATA);

    fn node_delete(id: i64, parent: Option<i64>) -> QueuedDelete {
        let values = vec![
            (0, Value::I64(id)),
            (1, parent.map_or(Value::Null, Value::I64)),
        ];
        QueuedDelete {
            parent: QueuedDelete::parent_of(&NODES, &values),
            ..QueuedDelete::new(&NODES, vec![Value::I64(id)])
        }
    }

    #[test]
    fn deleting_and_adding_the_same_key_is_one_update_in_the_inserts_place() {
        let plan = FlushPlan::new(
            vec![
                Row(&USERS, vec![Value::I64(5)], "new five"),
                new_row(&USERS, "fresh"),
            ],
            vec![delete(&USERS, 5), delete(&USERS, 6)],
        );
        assert_eq!(
            lines(&plan),
            ["update new five [5]", "insert fresh", "delete users [6]"]
        );
        assert_eq!((plan.inserts(), plan.updates(), plan.deletes()), (1, 1, 1));
        let FlushStep::Update(step) = &plan.steps()[0] else {
            unreachable!()
        };
        let update = step
            .statement(vec![(0, Value::I64(5)), (1, text("ed"))])
            .expect("a column to set");
        let compiled = crate::sql::Compile::compile(&update, &crate::dialect::Sqlite).unwrap();
        assert_eq!(compiled.sql(), "UPDATE users SET name=? WHERE users.id = ?");
        assert_eq!(compiled.params(), &[text("ed"), Value::I64(5)]);
    }

    #[test]
    fn deletes_within_a_self_referencing_table_run_children_first() {
        // Parent 1 queued first, then its child 2, then 3 (child of 2) and an unrelated 4.
        let plan = FlushPlan::<Row>::new(
            Vec::new(),
            vec![
                node_delete(1, None),
                node_delete(2, Some(1)),
                node_delete(4, None),
                node_delete(3, Some(2)),
            ],
        );
        assert_eq!(
            lines(&plan),
            [
                "delete nodes [3]",
                "delete nodes [2]",
                "delete nodes [1]",
                "delete nodes [4]"
            ]
        );
    }

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
        QueuedDelete::new(table, vec![Value::I64(id)])
    }

    /// The plan as `insert <label>` / `delete <table> <key>` lines.
    fn lines(plan: &FlushPlan<Row>) -> Vec<String> {
        plan.steps()
            .iter()
            .map(|step| match step {
                FlushStep::Insert(s) => format!("insert {}", s.row.2),
                FlushStep::Update(s) => format!("update {} {:?}", s.row.2, s.key),
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
                FlushStep::Update(_) | FlushStep::Delete(_) => unreachable!(),
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
            QueuedDelete::new(&LOG, vec![]),
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
        let tag = QueuedDelete::new(&TAGS, vec![Value::I64(0), Value::I64(0)]);
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
