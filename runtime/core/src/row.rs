//! [`Row`]: a dynamic row, its columns read by name or index, for results whose shape is only
//! known at run time ([`text`](crate::text) statements).

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use crate::error::{DecodeError, Error, Result, did_you_mean};
use crate::schema::FromRow;
use crate::value::{FromSql, RawRow, Value};

/// One row of a result whose columns are known only at run time: what a [`text`](crate::text)
/// statement returns. SQLAlchemy's `Row`, read through [`Row::get`] by name or by index.
///
/// ```
/// use quarry::prelude::*;
///
/// let engine = create_engine("sqlite://")?;
/// let mut conn = engine.connect()?;
/// let row = conn.execute(text("SELECT 1 AS id, 'ed' AS name, NULL AS hair"))?.one()?;
/// assert_eq!(row.get::<i64>("id")?, 1);
/// assert_eq!(row.get::<String>(1)?, "ed");
/// assert_eq!(row.get::<Option<String>>("hair")?, None);
/// assert_eq!(format!("{row:?}"), r#"Row { id: 1, name: "ed", hair: NULL }"#);
///
/// let err = row.get::<String>("nmae").err().map(|e| e.to_string());
/// assert_eq!(
///     err.as_deref(),
///     Some(r#"no column named "nmae" in this row; columns: id, name, hair; did you mean "name"?"#)
/// );
/// # Ok::<(), quarry::Error>(())
/// ```
///
/// The values are read once, as [`Value`]s, when the row is fetched; [`Row::get`] converts
/// them with the same rules as a typed row (integers of any width into `i64`, 0/1 into `bool`,
/// ISO text into dates …). The column names are shared by the rows of one result.
#[derive(Clone, PartialEq)]
pub struct Row {
    names: Arc<[Box<str>]>,
    values: Vec<Value>,
}

impl Row {
    /// A row of `values` under the column `names` (shared by the rows of one result).
    pub(crate) fn from_parts(names: Arc<[Box<str>]>, values: Vec<Value>) -> Row {
        Row { names, values }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The column names, in order (SQLAlchemy's `Row._fields`).
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + '_ {
        self.names.iter().map(|n| &**n)
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// `(name, value)` for each column, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + DoubleEndedIterator {
        self.names.iter().map(|n| &**n).zip(&self.values)
    }

    /// The values, without the names.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// Column `key` (a name or a 0-based index) decoded as `T`.
    ///
    /// # Errors
    /// [`Error::NoSuchColumn`] when there is no such column, or the name belongs to more than one
    /// column; [`Error::Decode`] naming the column when its value does not fit `T` (use
    /// `Option<T>` for a column that may be `NULL`).
    pub fn get<T: FromSql>(&self, key: impl ColumnIndex) -> Result<T> {
        let idx = key.index_in(self)?;
        T::from_sql(&self.raw(), idx)
    }

    /// Column `key` (a name or a 0-based index) as the value the database sent.
    ///
    /// # Errors
    /// [`Error::NoSuchColumn`], as for [`Row::get`].
    pub fn get_value(&self, key: impl ColumnIndex) -> Result<&Value> {
        let idx = key.index_in(self)?;
        self.values.get(idx).ok_or_else(|| self.index_error(idx))
    }

    fn raw(&self) -> ValueRow<'_> {
        ValueRow {
            names: &self.names,
            values: &self.values,
        }
    }

    /// `; columns: id, name` or `; it has no columns`.
    fn columns_hint(&self) -> String {
        if self.names.is_empty() {
            "; it has no columns".to_owned()
        } else {
            format!("; columns: {}", self.names.join(", "))
        }
    }

    fn index_error(&self, idx: usize) -> Error {
        Error::NoSuchColumn(format!(
            "no column at index {idx} in this row of {} columns{}",
            self.len(),
            self.columns_hint()
        ))
    }

    fn position(&self, name: &str) -> Result<usize> {
        let mut found = self.names.iter().enumerate().filter(|(_, n)| ***n == *name);
        match (found.next(), found.next()) {
            (Some((idx, _)), None) => Ok(idx),
            (Some((first, _)), Some((second, _))) => Err(Error::NoSuchColumn(format!(
                "column name {name:?} is ambiguous in this row: columns {first} and {second} are \
                 both named {name:?}; get it by index or give the columns distinct names with AS"
            ))),
            (None, _) => {
                let mut msg = format!(
                    "no column named {name:?} in this row{}",
                    self.columns_hint()
                );
                if let Some(close) = did_you_mean(name, self.names.iter().map(|n| &**n)) {
                    msg.push_str(&format!("; did you mean {close:?}?"));
                }
                Err(Error::NoSuchColumn(msg))
            }
        }
    }
}

/// `Row { id: 1, name: "ed" }`.
impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Row");
        for (name, value) in self.iter() {
            s.field(name, value);
        }
        s.finish()
    }
}

/// A row takes every column from `start` to the end: `width()` is 0 and means "the rest of the
/// row". A `Row` is therefore the whole row or the last item of a tuple (`(i64, Row)`); before
/// another item, or inside an `Option`, it would be given no columns of its own.
impl FromRow for Row {
    fn width() -> usize {
        0
    }

    fn from_row(row: &dyn RawRow, start: usize) -> Result<Self> {
        let values = (start..row.len())
            .map(|idx| row.get_value(idx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Row {
            names: shared_names(row, start),
            values,
        })
    }
}

thread_local! {
    /// The column names of the last row decoded on this thread. `FromRow` sees one row at a
    /// time, so this is how the rows of one result come to share one list of names: a row
    /// compares its names with the last list (no allocation) and reuses it when they match.
    static LAST_NAMES: RefCell<Option<Arc<[Box<str>]>>> = const { RefCell::new(None) };
}

/// The names of columns `start..` of `row`, shared with the previous row when they are equal.
fn shared_names(row: &dyn RawRow, start: usize) -> Arc<[Box<str>]> {
    let count = row.len().saturating_sub(start);
    let same = |names: &[Box<str>]| {
        names.len() == count
            && names
                .iter()
                .zip(start..)
                .all(|(name, idx)| **name == *row.name(idx))
    };
    LAST_NAMES.with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return (start..row.len()).map(|idx| row.name(idx).into()).collect();
        };
        match &*last {
            Some(names) if same(names) => Arc::clone(names),
            _ => {
                let names: Arc<[Box<str>]> =
                    (start..row.len()).map(|idx| row.name(idx).into()).collect();
                *last = Some(Arc::clone(&names));
                names
            }
        }
    })
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
}

/// What [`Row::get`] accepts as a column: a name (`&str`, `String`) or a 0-based index
/// (`usize`). Sealed: no other implementations.
pub trait ColumnIndex: sealed::Sealed {
    /// The index of the column in `row`.
    ///
    /// # Errors
    /// [`Error::NoSuchColumn`] naming the missing column and the row's columns.
    #[doc(hidden)]
    fn index_in(&self, row: &Row) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn index_in(&self, row: &Row) -> Result<usize> {
        if *self < row.len() {
            Ok(*self)
        } else {
            Err(row.index_error(*self))
        }
    }
}

impl ColumnIndex for &str {
    fn index_in(&self, row: &Row) -> Result<usize> {
        row.position(self)
    }
}

impl ColumnIndex for String {
    fn index_in(&self, row: &Row) -> Result<usize> {
        row.position(self)
    }
}

impl ColumnIndex for &String {
    fn index_in(&self, row: &Row) -> Result<usize> {
        row.position(self)
    }
}

/// A [`Row`]'s values seen as a [`RawRow`], so that every [`FromSql`] type decodes from it.
struct ValueRow<'a> {
    names: &'a [Box<str>],
    values: &'a [Value],
}

impl ValueRow<'_> {
    fn value(&self, idx: usize) -> Result<&Value> {
        self.values.get(idx).ok_or_else(|| {
            Error::NoSuchColumn(format!(
                "no column at index {idx} in this row of {} columns",
                self.values.len()
            ))
        })
    }

    fn mismatch(&self, idx: usize, expected: &'static str, found: &Value) -> Error {
        DecodeError::new(self.name(idx), expected, found.kind_name()).into_error()
    }
}

impl RawRow for ValueRow<'_> {
    fn len(&self) -> usize {
        self.values.len()
    }

    fn name(&self, idx: usize) -> &str {
        self.names.get(idx).map_or("?", |n| &**n)
    }

    fn get_i64(&self, idx: usize) -> Result<Option<i64>> {
        match self.value(idx)? {
            Value::Null => Ok(None),
            Value::I16(v) => Ok(Some(i64::from(*v))),
            Value::I32(v) => Ok(Some(i64::from(*v))),
            Value::I64(v) => Ok(Some(*v)),
            other => Err(self.mismatch(idx, "an integer", other)),
        }
    }

    fn get_f64(&self, idx: usize) -> Result<Option<f64>> {
        match self.value(idx)? {
            Value::Null => Ok(None),
            Value::F32(v) => Ok(Some(f64::from(*v))),
            Value::F64(v) => Ok(Some(*v)),
            Value::I16(v) => Ok(Some(f64::from(*v))),
            Value::I32(v) => Ok(Some(f64::from(*v))),
            // As the drivers do: an integer read as a float, rounded past 2^53.
            Value::I64(v) => Ok(Some(*v as f64)),
            other => Err(self.mismatch(idx, "a float", other)),
        }
    }

    fn get_bool(&self, idx: usize) -> Result<Option<bool>> {
        let int = match self.value(idx)? {
            Value::Null => return Ok(None),
            Value::Bool(v) => return Ok(Some(*v)),
            Value::I16(v) => i64::from(*v),
            Value::I32(v) => i64::from(*v),
            Value::I64(v) => *v,
            other => return Err(self.mismatch(idx, "bool", other)),
        };
        match int {
            0 => Ok(Some(false)),
            1 => Ok(Some(true)),
            v => Err(DecodeError::new(
                self.name(idx),
                "bool",
                format!("the integer {v}, which is neither 0 nor 1"),
            )
            .into_error()),
        }
    }

    fn get_text(&self, idx: usize) -> Result<Option<String>> {
        match self.value(idx)? {
            Value::Null => Ok(None),
            Value::Text(s) | Value::Json(s) | Value::Decimal(s) => Ok(Some(s.clone())),
            other => Err(self.mismatch(idx, "String", other)),
        }
    }

    fn get_blob(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        match self.value(idx)? {
            Value::Null => Ok(None),
            Value::Blob(b) => Ok(Some(b.clone())),
            Value::Text(s) => Ok(Some(s.as_bytes().to_vec())),
            other => Err(self.mismatch(idx, "Vec<u8>", other)),
        }
    }

    fn get_value(&self, idx: usize) -> Result<Value> {
        self.value(idx).cloned()
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(matches!(self.value(idx)?, Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(names: &[&str], values: Vec<Value>) -> Row {
        Row {
            names: names.iter().map(|n| (*n).into()).collect(),
            values,
        }
    }

    fn ed() -> Row {
        row(
            &["id", "name", "hair", "ok", "score", "data"],
            vec![
                Value::I32(1),
                Value::Text("ed".into()),
                Value::Null,
                Value::I64(1),
                Value::F32(1.5),
                Value::Blob(vec![1, 2]),
            ],
        )
    }

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn get_by_name_and_index_decodes_through_from_sql() -> Result<()> {
        let r = ed();
        assert_eq!(r.get::<i64>("id")?, 1);
        assert_eq!(r.get::<i16>(0)?, 1);
        assert_eq!(r.get::<String>("name")?, "ed");
        assert_eq!(r.get::<String>(String::from("name"))?, "ed");
        assert_eq!(r.get::<String>(&String::from("name"))?, "ed");
        assert_eq!(r.get::<Option<String>>("hair")?, None);
        assert_eq!(r.get::<Option<String>>("name")?, Some("ed".to_owned()));
        assert!(r.get::<bool>("ok")?);
        assert_eq!(r.get::<f64>("score")?, 1.5);
        assert_eq!(r.get::<f64>("id")?, 1.0);
        assert_eq!(r.get::<Vec<u8>>("data")?, [1, 2]);
        assert_eq!(r.get::<Vec<u8>>("name")?, b"ed");
        assert_eq!(r.get::<Value>("name")?, Value::Text("ed".into()));
        Ok(())
    }

    #[test]
    fn get_reads_json_and_decimal_as_text_and_dates_from_iso_text() -> Result<()> {
        let r = row(
            &["j", "d", "day"],
            vec![
                Value::Json("{}".into()),
                Value::Decimal("1.50".into()),
                Value::Text("2024-02-29".into()),
            ],
        );
        assert_eq!(r.get::<String>("j")?, "{}");
        assert_eq!(r.get::<String>("d")?, "1.50");
        assert_eq!(r.raw().get_date(2)?, Some(19_782));
        assert_eq!(r.raw().get_decimal(1)?, Some("1.50".to_owned()));
        Ok(())
    }

    #[test]
    fn unknown_name_lists_columns_and_suggests_a_close_one() {
        let r = row(&["id", "name"], vec![Value::I64(1), Value::Null]);
        assert_eq!(
            err(r.get::<i64>("nmae")),
            r#"no column named "nmae" in this row; columns: id, name; did you mean "name"?"#
        );
        assert_eq!(
            err(r.get::<i64>("email")),
            r#"no column named "email" in this row; columns: id, name"#
        );
        assert_eq!(
            err(row(&[], vec![]).get::<i64>("id")),
            r#"no column named "id" in this row; it has no columns"#
        );
    }

    #[test]
    fn index_out_of_range_names_index_and_count() {
        let r = row(&["id", "name"], vec![Value::I64(1), Value::Null]);
        assert_eq!(
            err(r.get::<i64>(2)),
            "no column at index 2 in this row of 2 columns; columns: id, name"
        );
        assert_eq!(
            err(r.get_value(5)),
            "no column at index 5 in this row of 2 columns; columns: id, name"
        );
    }

    #[test]
    fn duplicate_name_is_ambiguous() {
        let r = row(&["id", "id"], vec![Value::I64(1), Value::I64(2)]);
        assert_eq!(
            err(r.get::<i64>("id")),
            r#"column name "id" is ambiguous in this row: columns 0 and 1 are both named "id"; get it by index or give the columns distinct names with AS"#
        );
        assert_eq!(r.get::<i64>(1).ok(), Some(2));
    }

    #[test]
    fn decode_error_names_the_column() {
        let r = ed();
        assert_eq!(
            err(r.get::<i64>("name")),
            r#"cannot decode column "name" as i64: found text"#
        );
        assert_eq!(
            err(r.get::<String>("hair")),
            r#"cannot decode column "hair" as String: found NULL"#
        );
        assert_eq!(
            err(r.get::<i32>("data")),
            r#"cannot decode column "data" as i32: found a blob"#
        );
        let two = row(&["flag"], vec![Value::I32(2)]);
        assert_eq!(
            err(two.get::<bool>("flag")),
            r#"cannot decode column "flag" as bool: found the integer 2, which is neither 0 nor 1"#
        );
        let big = row(&["n"], vec![Value::I64(70_000)]);
        assert_eq!(
            err(big.get::<i16>("n")),
            r#"cannot decode column "n" as i16: found 70000, which is out of range"#
        );
    }

    #[test]
    fn bool_reads_bool_and_zero_or_one() -> Result<()> {
        let r = row(
            &["a", "b", "c"],
            vec![Value::Bool(true), Value::I16(0), Value::I32(1)],
        );
        assert!(r.get::<bool>("a")?);
        assert!(!r.get::<bool>("b")?);
        assert!(r.get::<bool>("c")?);
        Ok(())
    }

    #[test]
    fn accessors_and_debug() -> Result<()> {
        let r = row(
            &["id", "name"],
            vec![Value::I64(1), Value::Text("ed".into())],
        );
        assert_eq!(r.len(), 2);
        assert!(!r.is_empty());
        assert_eq!(r.keys().collect::<Vec<_>>(), ["id", "name"]);
        assert_eq!(r.values(), [Value::I64(1), Value::Text("ed".into())]);
        assert_eq!(r.get_value("name")?, &Value::Text("ed".into()));
        assert_eq!(r.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["id", "name"]);
        assert_eq!(format!("{r:?}"), r#"Row { id: 1, name: "ed" }"#);
        assert_eq!(r.into_values().len(), 2);
        assert_eq!(format!("{:?}", row(&[], vec![])), "Row");
        Ok(())
    }

    /// A fixed row for `FromRow`.
    struct Fixed(Vec<(&'static str, Value)>);

    impl RawRow for Fixed {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn name(&self, idx: usize) -> &str {
            self.0[idx].0
        }
        fn get_i64(&self, idx: usize) -> Result<Option<i64>> {
            ValueRow {
                names: &[],
                values: &[self.0[idx].1.clone()],
            }
            .get_i64(0)
        }
        fn get_f64(&self, _: usize) -> Result<Option<f64>> {
            Ok(None)
        }
        fn get_bool(&self, _: usize) -> Result<Option<bool>> {
            Ok(None)
        }
        fn get_text(&self, _: usize) -> Result<Option<String>> {
            Ok(None)
        }
        fn get_blob(&self, _: usize) -> Result<Option<Vec<u8>>> {
            Ok(None)
        }
        fn get_value(&self, idx: usize) -> Result<Value> {
            Ok(self.0[idx].1.clone())
        }
        fn is_null(&self, idx: usize) -> Result<bool> {
            Ok(self.0[idx].1 == Value::Null)
        }
    }

    #[test]
    fn from_row_takes_the_rest_of_the_row_and_shares_names() -> Result<()> {
        let raw = Fixed(vec![
            ("id", Value::I64(1)),
            ("name", Value::Text("ed".into())),
        ]);
        let first = Row::from_row(&raw, 0)?;
        let second = Row::from_row(&raw, 0)?;
        assert_eq!(format!("{first:?}"), r#"Row { id: 1, name: "ed" }"#);
        assert!(Arc::ptr_eq(&first.names, &second.names));

        let (id, rest) = <(i64, Row)>::from_row(&raw, 0)?;
        assert_eq!(id, 1);
        assert_eq!(format!("{rest:?}"), r#"Row { name: "ed" }"#);
        assert!(!Arc::ptr_eq(&first.names, &rest.names));

        let other = Fixed(vec![("id", Value::I64(2)), ("nick", Value::Null)]);
        let third = Row::from_row(&other, 0)?;
        assert_eq!(third.keys().collect::<Vec<_>>(), ["id", "nick"]);
        Ok(())
    }
}
