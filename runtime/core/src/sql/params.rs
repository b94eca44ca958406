//! [`Params`]: the parameters of a compiled statement, held inline up to [`INLINE`] values so
//! that the zero-render path (`sql/fast.rs`) allocates nothing for them.

use std::fmt;

use crate::value::Value;

/// How many values [`Params`] holds without allocating.
pub(crate) const INLINE: usize = 8;

/// Parameter values in placeholder order: inline up to [`INLINE`] (in the smallest of two
/// sizes, since an inline value costs its drop even when unused), else a `Vec`.
// Inline on purpose: the zero-render path's parameters must not allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Params {
    Two { len: u8, items: [Value; 2] },
    Eight { len: u8, items: [Value; INLINE] },
    Heap(Vec<Value>),
}

impl Params {
    /// No values, inline.
    pub(crate) fn new() -> Self {
        Params::Two {
            len: 0,
            items: [Value::Null, Value::Null],
        }
    }

    /// Append `value`, moving to a larger room when this one is full.
    pub(crate) fn push(&mut self, value: Value) {
        match self {
            Params::Two { len, items } if usize::from(*len) < items.len() => {
                items[usize::from(*len)] = value;
                *len += 1;
            }
            Params::Eight { len, items } if usize::from(*len) < items.len() => {
                items[usize::from(*len)] = value;
                *len += 1;
            }
            Params::Two { items, .. } => {
                let [a, b] = std::mem::replace(items, [Value::Null, Value::Null]);
                let mut items: [Value; INLINE] = std::array::from_fn(|_| Value::Null);
                items[0] = a;
                items[1] = b;
                items[2] = value;
                *self = Params::Eight { len: 3, items };
            }
            Params::Eight { items, .. } => {
                let mut all: Vec<Value> = Vec::with_capacity(INLINE * 2);
                all.extend(items.iter_mut().map(|v| std::mem::replace(v, Value::Null)));
                all.push(value);
                *self = Params::Heap(all);
            }
            Params::Heap(all) => all.push(value),
        }
    }

    /// `values`, inline when they fit (as [`Params::push`] would place them, without first
    /// writing and dropping the `NULL`s of an empty room).
    #[inline]
    pub(crate) fn from_array<const N: usize>(values: [Value; N]) -> Self {
        let mut values = values.into_iter();
        let mut next = || values.next().unwrap_or(Value::Null);
        match u8::try_from(N) {
            Ok(len) if N <= 2 => Params::Two {
                len,
                items: [next(), next()],
            },
            Ok(len) if N <= INLINE => Params::Eight {
                len,
                items: std::array::from_fn(|_| next()),
            },
            _ => Params::Heap(values.collect()),
        }
    }

    pub(crate) fn as_slice(&self) -> &[Value] {
        match self {
            Params::Two { len, items } => &items[..usize::from(*len)],
            Params::Eight { len, items } => &items[..usize::from(*len)],
            Params::Heap(all) => all,
        }
    }
}

impl From<Vec<Value>> for Params {
    fn from(values: Vec<Value>) -> Self {
        Params::Heap(values)
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_past_the_inline_room_move_to_the_heap_in_order() {
        let mut p = Params::new();
        for i in 0..12 {
            p.push(Value::I64(i));
            assert_eq!(p.as_slice().len(), usize::try_from(i + 1).unwrap_or(0));
        }
        assert!(matches!(p, Params::Heap(_)));
        let want: Vec<Value> = (0..12).map(Value::I64).collect();
        assert_eq!(p.as_slice(), want.as_slice());
    }
}
