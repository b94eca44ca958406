//! The pieces of a unit of work the engine keeps: `Added` handles and their key slots, the
//! keys `get` accepts, pending inserts (deletes, identity keys and the flush plan are the
//! core's: `quarry_core::rules::flush`).

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
    fn values(&self, out: &mut Vec<(usize, Value)>);
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
    fn values(&self, out: &mut Vec<(usize, Value)>) {
        Insertable::values(self, out)
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

impl QueuedRow for PendingInsert {
    fn table(&self) -> &'static TableDef {
        self.row.table()
    }
    fn primary_key(&self) -> Vec<Value> {
        self.row.primary_key()
    }
}
