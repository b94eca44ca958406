//! Primary-key values as callers spell them: one value, a tuple, a `Vec<Value>`.

use crate::error::Result;
use crate::value::{ToSql, Value};

/// A primary key, as `Session::get` takes it: one value, a tuple of values for a composite key (in
/// the order of [`TableDef::primary_key`]), a `Vec<Value>`, or the engine's `Added` handle. Integer
/// widths do not matter: `1` (an `i32`) finds the `i64` key 1.
///
/// ```
/// use quarry::{PrimaryKey, Value};
///
/// assert_eq!(7.into_key()?, [Value::I32(7)]);
/// assert_eq!(("ed", 2i64).into_key()?, [Value::Text("ed".into()), Value::I64(2)]);
/// # Ok::<(), quarry::Error>(())
/// ```
pub trait PrimaryKey {
    /// The key's values.
    ///
    /// # Errors
    /// [`crate::Error::Config`] for a key that is not there (an engine's `Added` object that was
    /// rolled back).
    fn into_key(self) -> Result<Vec<Value>>;
}

impl<T: ToSql> PrimaryKey for T {
    fn into_key(self) -> Result<Vec<Value>> {
        Ok(vec![self.to_value()])
    }
}

impl PrimaryKey for Vec<Value> {
    fn into_key(self) -> Result<Vec<Value>> {
        Ok(self)
    }
}

macro_rules! tuple_keys {
    ($($name:ident)+) => {
        impl<$($name: ToSql),+> PrimaryKey for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_key(self) -> Result<Vec<Value>> {
                let ($($name,)+) = self;
                Ok(vec![$($name.to_value()),+])
            }
        }
    };
}
tuple_keys!(A B);
tuple_keys!(A B C);
tuple_keys!(A B C D);
