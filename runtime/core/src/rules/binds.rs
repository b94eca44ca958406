//! A session's binds: which engine each table's statements go to (SQLAlchemy's
//! `Session(binds={…})`): a table bind, else its metadata's bind, else the default engine; the
//! latest bind wins. Generic over the engine handle, so that the blocking `Session` and the
//! async `AsyncSession` route alike.

use crate::schema::{MetaData, TableDef};

/// The engines of a session and which tables go where; engines are named by their index
/// ("slot") in [`Binds::engines`].
#[derive(Debug, Clone)]
pub struct Binds<E> {
    /// Distinct engines; the first is the session's default.
    pub engines: Vec<E>,
    /// Table binds, in the order they were made.
    pub tables: Vec<(&'static TableDef, usize)>,
    /// Metadata binds, in the order they were made.
    pub metadata: Vec<(&'static MetaData, usize)>,
}

/// A statement over tables of two engines: the first table with its slot, and the first
/// table bound elsewhere with its slot.
pub type Spans = ((usize, &'static TableDef), (usize, &'static TableDef));

impl<E: Clone> Binds<E> {
    /// Binds whose default engine is `default`.
    pub fn new(default: E) -> Self {
        Binds {
            engines: vec![default],
            tables: Vec::new(),
            metadata: Vec::new(),
        }
    }

    /// The slot of `engine` (`same` says whether two handles are one engine, sharing a pool
    /// and so a connection and transaction in the session), added if new.
    pub fn slot_of(&mut self, engine: &E, same: impl Fn(&E, &E) -> bool) -> usize {
        match self.engines.iter().position(|e| same(e, engine)) {
            Some(i) => i,
            None => {
                self.engines.push(engine.clone());
                self.engines.len() - 1
            }
        }
    }
}

impl<E> Binds<E> {
    /// The slot for `table`: table bind, else metadata bind, else the default.
    pub fn slot_for(&self, table: &'static TableDef) -> usize {
        let by_table = self.tables.iter().rev().find(|(t, _)| *t == table);
        let by_metadata = || {
            (self.metadata.iter().rev())
                .find(|(m, _)| std::ptr::eq(*m, table.metadata()))
                .map(|(_, slot)| *slot)
        };
        (by_table.map(|(_, slot)| *slot))
            .or_else(by_metadata)
            .unwrap_or(0)
    }

    /// The one slot `tables` go to (the default for none).
    ///
    /// # Errors
    /// The first two tables bound to different engines.
    pub fn slot_for_tables(&self, tables: &[&'static TableDef]) -> Result<usize, Spans> {
        let mut found: Option<(usize, &'static TableDef)> = None;
        for &table in tables {
            let slot = self.slot_for(table);
            match found {
                None => found = Some((slot, table)),
                Some((first, _)) if first == slot => {}
                Some(first) => return Err((first, (slot, table))),
            }
        }
        Ok(found.map_or(0, |(slot, _)| slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static A: MetaData = MetaData::new();
    static B: MetaData = MetaData::new();
    static USERS: TableDef = TableDef::new("users", &[], &A);
    static POSTS: TableDef = TableDef::new("posts", &[], &A);
    static LOGS: TableDef = TableDef::new("logs", &[], &B);

    #[test]
    fn a_table_bind_beats_a_metadata_bind_which_beats_the_default() {
        let mut binds = Binds::new("default");
        let archive = binds.slot_of(&"archive", |a, b| a == b);
        let audit = binds.slot_of(&"audit", |a, b| a == b);
        assert_eq!(binds.slot_of(&"archive", |a, b| a == b), archive);
        binds.metadata.push((&A, archive));
        binds.tables.push((&POSTS, audit));
        assert_eq!(binds.slot_for(&USERS), archive);
        assert_eq!(binds.slot_for(&POSTS), audit);
        assert_eq!(binds.slot_for(&LOGS), 0);
        assert_eq!(binds.engines, ["default", "archive", "audit"]);
    }

    #[test]
    fn tables_of_two_engines_are_named() {
        let mut binds = Binds::new(0);
        let other = binds.slot_of(&1, |a, b| a == b);
        binds.metadata.push((&B, other));
        assert_eq!(binds.slot_for_tables(&[]), Ok(0));
        assert_eq!(binds.slot_for_tables(&[&LOGS, &LOGS]), Ok(other));
        let Err(((first, first_table), (slot, table))) =
            binds.slot_for_tables(&[&USERS, &POSTS, &LOGS])
        else {
            panic!("the tables span two engines");
        };
        assert_eq!(
            (first, first_table.name(), slot, table.name()),
            (0, "users", other, "logs")
        );
    }
}
