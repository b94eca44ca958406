//! The rules engines share, as plain state machines: the transaction stack of a connection
//! and the flush plan of a session.
//!
//! They decide and never act: each returns what to run, an engine runs it on its own
//! connections (blocking or not) and reports back. So the blocking engine and a non-blocking
//! one follow the same rules without copying them.

pub mod flush;
pub mod transaction;
