//! The first column of a row: what `scalar()`, `scalar_one()` and `scalar_one_or_none()` read
//! (SQLAlchemy's `Result.scalar()` family).

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
}

impl<T: FromSql> FirstColumn<T> for Row {
    fn first_column(self) -> Result<T> {
        self.get(0)
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
