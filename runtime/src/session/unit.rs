//! The pieces of a unit of work: `Added` handles and their key slots, the keys `get`
//! accepts, pending inserts and deletes, identity-map keys.

use super::*;

/// An object queued by [`Session::add`]: tells its primary key once flushed.
///
/// The key is unset again if the transaction that inserted the row rolls back. Pass
/// `&added` to [`Session::get`] for the object as flushed.
///
/// ```
/// use quarry::prelude::*;
/// use quarry::Value;
///
/// static META: MetaData = MetaData::new();
///
/// #[derive(Table, Debug, Clone)]
/// #[table(metadata = META)]
/// struct Pet {
///     #[column(primary_key)]
///     id: i64,
///     name: String,
/// }
///
/// let engine = create_engine("sqlite://")?;
/// META.create_all(&engine)?;
/// let mut session = Session::new(&engine);
/// let rex = session.add(Pet { id: 0, name: "Rex".into() });
/// assert!(!rex.is_flushed());
/// session.flush()?;
/// assert!(rex.is_flushed());
/// assert_eq!(rex.primary_key(), Some(vec![Value::I64(1)]));
/// let rex: Pet = session.get(&rex)?.unwrap();
/// assert_eq!(rex.id, 1);
/// # Ok::<(), quarry::Error>(())
/// ```
pub struct Added<T> {
    pub(super) slot: Arc<KeySlot>,
    pub(super) _row: PhantomData<fn() -> T>,
}

impl<T> Clone for Added<T> {
    fn clone(&self) -> Self {
        Added {
            slot: Arc::clone(&self.slot),
            _row: PhantomData,
        }
    }
}

impl<T: Table> fmt::Debug for Added<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Added")
            .field("table", &T::table().name())
            .field("primary_key", &self.slot.get())
            .finish()
    }
}

impl<T> Added<T> {
    /// The primary key's values once the object is flushed (and not rolled back).
    pub fn primary_key(&self) -> Option<Vec<Value>> {
        self.slot.get()
    }

    /// The key of a table with a single integer primary key (an autoincrement key), once the
    /// object is flushed.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// let rex = session.add(Pet { id: 0, name: "Rex".into() });
    /// assert_eq!(rex.id(), None);
    /// session.flush()?;
    /// assert_eq!(rex.id(), Some(1));
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn id(&self) -> Option<i64> {
        match self.slot.get()?.as_slice() {
            [Value::I16(v)] => Some(i64::from(*v)),
            [Value::I32(v)] => Some(i64::from(*v)),
            [Value::I64(v)] => Some(*v),
            _ => None,
        }
    }

    /// True once flushed (and not rolled back).
    pub fn is_flushed(&self) -> bool {
        self.slot.get().is_some()
    }
}

/// Where a flush writes the key of an added object.
#[derive(Debug, Default)]
pub(super) struct KeySlot(Mutex<Option<Vec<Value>>>);

impl KeySlot {
    pub(super) fn get(&self) -> Option<Vec<Value>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    pub(super) fn set(&self, key: Option<Vec<Value>>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = key;
    }
}

impl<T: Table> PrimaryKey for &Added<T> {
    fn into_key(self) -> Result<Vec<Value>> {
        self.slot.get().ok_or_else(|| {
            Error::config(format!(
                "the added {} row has no primary key: its transaction was rolled back",
                T::table().name()
            ))
        })
    }
}

/// An object of some table, queued for insertion.
pub(super) trait PendingRow: Send {
    fn table(&self) -> &'static TableDef;
    fn insert(&self) -> Insert<()>;
    fn primary_key(&self) -> Vec<Value>;
    fn set_autoincrement_key(&mut self, key: i64) -> Result<()>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Identity + Insertable + Send> PendingRow for T {
    fn table(&self) -> &'static TableDef {
        T::table()
    }
    fn insert(&self) -> Insert<()> {
        T::insert(self)
    }
    fn primary_key(&self) -> Vec<Value> {
        Identity::primary_key(self)
    }
    fn set_autoincrement_key(&mut self, key: i64) -> Result<()> {
        Identity::set_autoincrement_key(self, key)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

pub(super) struct PendingInsert {
    pub(super) row: Box<dyn PendingRow>,
    pub(super) slot: Arc<KeySlot>,
}

pub(super) struct PendingDelete {
    pub(super) table: &'static TableDef,
    pub(super) key: Vec<Value>,
}

impl PendingDelete {
    pub(super) fn check(&self) -> Result<()> {
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

/// The identity map's key: the table (by address) and the primary key's values, with the
/// integer widths made one (so `get::<User>(1)` finds the `i64` key 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct IdentityKey {
    pub(super) table: usize,
    pub(super) key: Vec<KeyPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum KeyPart {
    Null,
    Int(i64),
    Float(u64),
    Text(String),
    Bytes(Vec<u8>),
}

impl IdentityKey {
    pub(super) fn new(table: &'static TableDef, key: &[Value]) -> Self {
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
            other => KeyPart::Text(format!("{other:?}")),
        }
    }
}

/// The table's autoincrement primary key column, when its key is that one column.
pub(super) fn autoincrement_column(table: &'static TableDef) -> Option<&'static crate::ColumnDef> {
    let mut pk = table.primary_key();
    let column = pk.next()?;
    (pk.next().is_none() && column.is_autoincrement()).then_some(column)
}

/// An autoincrement key still `0`: the database has not assigned it.
pub(super) fn is_unset(key: &[Value]) -> bool {
    matches!(key, [Value::I16(0) | Value::I32(0) | Value::I64(0)])
}

pub(super) fn check_arity(table: &'static TableDef, key: &[Value]) -> Result<()> {
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
pub(super) fn key_condition(table: &'static TableDef, key: &[Value]) -> Expr<bool> {
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
    // `check_arity` / `PendingDelete::check` rule out an empty key before this is called.
    Expr::new(condition.unwrap_or(SqlExpr::Param(Value::Bool(false))))
}

/// The distinct tables of `tables`, parents before children by foreign key (ties by name).
pub(super) fn dependency_order(
    tables: impl Iterator<Item = &'static TableDef>,
) -> Vec<&'static TableDef> {
    let mut distinct: Vec<&'static TableDef> = Vec::new();
    for t in tables {
        if !distinct.contains(&t) {
            distinct.push(t);
        }
    }
    distinct.sort_by_key(|t| t.name());
    sort_by_dependency(distinct)
}
