//! The first column of a row: what `scalar()`, `scalar_one()` and `scalar_one_or_none()` read
//! (SQLAlchemy's `Result.scalar()` family).

use std::sync::Arc;

use crate::error::Result;
use crate::row::Row;
use crate::sql::Table;
use crate::value::{FromSql, Value};

/// A decoded row whose first column can be read as a `T`.
///
/// - a one-column row (`Select<i64>`, `Rows<Option<String>>`) is its own first column;
/// - a tuple's first column is its first item;
/// - a dynamic [`Row`] (a `text()` result) decodes its first column into any
///   [`FromSql`] type the caller names: `let n: i64 = rows.scalar()?`;
/// - a table row (`select!(User)`) is the whole row, as SQLAlchemy's ORM `scalar()` returns the
///   entity.
///
/// `#[derive(SqlEnum)]` implements it for the enum.
#[diagnostic::on_unimplemented(
    message = "the first column of a `{Self}` row cannot be read as `{T}`",
    label = "`scalar()` reads the first column of the first row",
    note = "name the type the first column decodes into: `let n: i64 = rows.scalar()?`"
)]
pub trait FirstColumn<T>: Sized {
    /// The first column of this row.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] when a dynamic row's first column does not fit `T`;
    /// [`crate::Error::NoSuchColumn`] when the row has no column.
    fn first_column(self) -> Result<T>;

    /// What `scalar()` gives when there is no row: `None` where `T` is an `Option` (as
    /// SQLAlchemy's `scalar()` returns `None`), else [`crate::Error::NoRows`].
    ///
    /// # Errors
    /// [`crate::Error::NoRows`] when `T` cannot say "nothing".
    fn no_row() -> Result<T> {
        Err(crate::Error::NoRows)
    }
}

impl<T: FromSql> FirstColumn<T> for Row {
    fn first_column(self) -> Result<T> {
        self.get(0)
    }

    fn no_row() -> Result<T> {
        // "No row" reads as a NULL first column: `Option<T>` takes it as `None`, the rest
        // cannot, and that is no row rather than a NULL.
        let null = Row::from_parts(Arc::from(vec![Box::<str>::from("")]), vec![Value::Null]);
        null.get(0).map_err(|_| crate::Error::NoRows)
    }
}

impl<T: Table> FirstColumn<T> for T {
    fn first_column(self) -> Result<T> {
        Ok(self)
    }
}

impl<T> FirstColumn<Option<T>> for Option<T> {
    fn first_column(self) -> Result<Option<T>> {
        Ok(self)
    }

    fn no_row() -> Result<Option<T>> {
        Ok(None)
    }
}

macro_rules! itself {
    ($($t:ty),*) => {$(
        impl FirstColumn<$t> for $t {
            fn first_column(self) -> Result<$t> {
                Ok(self)
            }
        }
    )*};
}
itself!(i16, i32, i64, f32, f64, bool, String, Vec<u8>, Value);
crate::value::feature_types!(itself);
crate::value::array_types!(itself);

macro_rules! tuple_first {
    ($first:ident $($rest:ident)*) => {
        impl<$first, $($rest),*> FirstColumn<$first> for ($first, $($rest,)*) {
            #[allow(non_snake_case, unused_variables)]
            fn first_column(self) -> Result<$first> {
                Ok(self.0)
            }
        }
    };
}
tuple_first!(A);
tuple_first!(A B);
tuple_first!(A B C);
tuple_first!(A B C D);
tuple_first!(A B C D E);
tuple_first!(A B C D E F);
tuple_first!(A B C D E F G);
tuple_first!(A B C D E F G H);
tuple_first!(A B C D E F G H I);
tuple_first!(A B C D E F G H I J);
tuple_first!(A B C D E F G H I J K);
tuple_first!(A B C D E F G H I J K L);

#[cfg(test)]
mod tests {
    use super::FirstColumn;
    use crate::error::Error;
    use crate::row::Row;

    #[test]
    fn no_row_is_none_for_an_option_and_no_rows_otherwise() {
        assert_eq!(<Row as FirstColumn<Option<i64>>>::no_row().ok(), Some(None));
        assert!(matches!(
            <Row as FirstColumn<i64>>::no_row(),
            Err(Error::NoRows)
        ));
        assert_eq!(
            <Option<String> as FirstColumn<Option<String>>>::no_row().ok(),
            Some(None)
        );
        assert!(matches!(
            <i64 as FirstColumn<i64>>::no_row(),
            Err(Error::NoRows)
        ));
        assert!(matches!(
            <(Option<i64>, String) as FirstColumn<Option<i64>>>::no_row(),
            Err(Error::NoRows)
        ));
    }
}
