//! The trivial connection the pool benchmark and `tests/pool_alloc.rs` check out: every method
//! a no-op, so what is measured is the pool and nothing else. Connects are inline
//! (`connect_may_block` is false), as for an embedded database.

use std::any::Any;
use std::time::Duration;

use quarry::Result;
use quarry::Value;
use quarry::dialect::{Dialect, Sqlite};
use quarry::driver::{Driver, DriverConnection, Outcome, RowSink};

/// A connection that does nothing (and writes nothing: the pool's costs are not mixed with the
/// cache misses of a connection object that moves between cores).
#[derive(Debug, Default)]
pub struct Trivial;

/// Opens [`Trivial`] connections.
#[derive(Debug)]
pub struct TrivialDriver;

impl Driver for TrivialDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        &Sqlite
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        Ok(Box::new(Trivial))
    }

    fn connect_may_block(&self) -> bool {
        false
    }
}

impl DriverConnection for Trivial {
    fn run(&mut self, _: &str, _: &[Value], _: &mut dyn RowSink) -> Result<Outcome> {
        Ok(Outcome::default())
    }
    fn batch(&mut self, _: &str) -> Result<()> {
        Ok(())
    }
    fn ping(&mut self) -> Result<()> {
        Ok(())
    }
    fn begin(&mut self) -> Result<()> {
        Ok(())
    }
    fn commit(&mut self) -> Result<()> {
        Ok(())
    }
    fn rollback(&mut self) -> Result<()> {
        Ok(())
    }
    fn in_transaction(&self) -> bool {
        false
    }
    fn forget_transaction(&mut self) {}
    fn set_statement_timeout(&mut self, _: Option<Duration>) -> Result<()> {
        Ok(())
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
