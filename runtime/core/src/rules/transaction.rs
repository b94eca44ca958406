//! The transaction stack of one connection as a state machine: SQLAlchemy 1.x's nesting rules.
//!
//! The first guard is the real transaction (`BEGIN`); a `begin()` inside it pushes a *marker*
//! whose commit does nothing and whose rollback rolls back the real transaction at once and
//! makes the outer guards inactive (only their rollback may follow) — or, when the marker was
//! begun inside a savepoint, rolls back to that savepoint only; `begin_nested()` pushes a
//! savepoint; a two-phase transaction is a real transaction with a global id that can be
//! prepared.
//!
//! Every operation is two calls. The first decides: it refuses at once (an `Err`, nothing
//! changed) or returns a step holding the [`TxAction`]s to carry out, in order. The engine runs
//! them on its connection, stopping at the first failure, and reports the result with the
//! second call, which moves the state on and says what the caller gets:
//!
//! ```
//! use quarry_core::rules::transaction::{End, TxAction, TxState};
//!
//! let mut tx = TxState::default();
//! let begin = tx.begin()?;
//! assert_eq!(begin.actions(), [TxAction::Begin]);
//! let root = tx.begun(begin, Ok(()))?; // the driver's BEGIN succeeded
//!
//! let begin = tx.begin()?;
//! assert!(begin.actions().is_empty()); // a marker: nothing to run
//! let marker = tx.begun(begin, Ok(()))?;
//!
//! let end = tx.end(&marker, End::Rollback);
//! assert_eq!(end.actions(), [TxAction::Rollback]); // rolls back the whole transaction
//! tx.ended(end, Ok(()))?;
//! assert!(!tx.is_active());
//!
//! let end = tx.end(&root, End::Commit);
//! assert_eq!(end.actions(), [TxAction::Rollback]); // nothing is left to commit
//! assert!(tx.ended(end, Ok(())).is_err()); // Error::InactiveTransaction
//! assert!(!tx.is_open());
//! # Ok::<(), quarry_core::Error>(())
//! ```
//!
//! The stack does no I/O and reads no clock: a generated two-phase id comes from the engine.

use crate::dialect::TwoPhase;
use crate::error::{Error, Result};

/// What one guard on the stack is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxKind {
    /// The real transaction: `BEGIN` … `COMMIT` / `ROLLBACK`.
    Root,
    /// A `begin()` inside an open transaction.
    Marker,
    /// `SAVEPOINT name`.
    Savepoint(String),
    /// A two-phase transaction with its global id.
    TwoPhase {
        /// The global transaction id (checked: no character that needs quoting).
        xid: String,
        /// How the dialect spells the phases.
        style: TwoPhase,
    },
}

/// One thing the engine does on its connection to carry out a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxAction {
    /// The driver's own `BEGIN`.
    Begin,
    /// The driver's own `COMMIT`.
    Commit,
    /// The driver's own `ROLLBACK` (nothing to do on a connection already discarded: its
    /// transaction died with it).
    Rollback,
    /// Transaction-control SQL, run unprepared (`SAVEPOINT sa_savepoint_1`, `XA END '…'`).
    Sql(String),
    /// The prepared transaction now lives on the server, not in the session: the driver is to
    /// forget it, so that it sends no `ROLLBACK` for it.
    ForgetTransaction,
}

/// How a guard ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Commit: `COMMIT`, nothing for a marker, `RELEASE SAVEPOINT`, the two-phase commit.
    Commit,
    /// Roll back: `ROLLBACK` (also for a marker), `ROLLBACK TO SAVEPOINT`, the two-phase
    /// rollback.
    Rollback,
}

/// The guards open on one connection, outermost first, and what has happened to them.
#[derive(Debug, Default)]
pub struct TxState {
    stack: Vec<TxKind>,
    /// An inner `begin()` rolled back, or the connection was discarded: the real transaction
    /// is gone, and only a rollback of the outer guards may follow.
    inactive: bool,
    /// Savepoints named so far (names are never reused on a connection).
    savepoint_seq: u32,
    /// The two-phase transaction is prepared.
    prepared: bool,
}

const INACTIVE: &str = "an inner transaction was rolled back, which rolled back the whole \
                        transaction; roll back the outer transaction before running more statements";

const NOTHING_TO_COMMIT: &str = "an inner transaction was rolled back, so nothing can be committed";

/// A decided `begin`: run [`Begin::actions`], then report with [`TxState::begun`].
#[derive(Debug)]
#[must_use = "run the actions, then report with TxState::begun"]
pub struct Begin {
    actions: Vec<TxAction>,
    kind: TxKind,
}

impl Begin {
    /// What to run, in order.
    pub fn actions(&self) -> &[TxAction] {
        &self.actions
    }

    /// The guard this begins.
    pub fn kind(&self) -> &TxKind {
        &self.kind
    }
}

/// A decided end of a guard: run [`Ending::actions`], then report with [`TxState::ended`].
#[derive(Debug)]
#[must_use = "run the actions, then report with TxState::ended"]
pub struct Ending {
    actions: Vec<TxAction>,
    rollback_of_marker: bool,
    /// A commit of an inactive transaction: after the actions, the answer is an error.
    refused: bool,
}

impl Ending {
    /// What to run, in order.
    pub fn actions(&self) -> &[TxAction] {
        &self.actions
    }
}

/// A decided first phase of a two-phase commit: run [`Prepare::actions`], then report with
/// [`TxState::prepared`].
#[derive(Debug)]
#[must_use = "run the actions, then report with TxState::prepared"]
pub struct Prepare {
    actions: Vec<TxAction>,
}

impl Prepare {
    /// What to run, in order.
    pub fn actions(&self) -> &[TxAction] {
        &self.actions
    }
}

impl TxState {
    /// True while any guard is open.
    pub fn is_open(&self) -> bool {
        !self.stack.is_empty()
    }

    /// False once an inner `begin()` rolled back the whole transaction (or the connection was
    /// discarded inside it), until the outermost guard ends.
    pub fn is_active(&self) -> bool {
        !self.inactive
    }

    /// True once the two-phase transaction is prepared, until it ends.
    pub fn is_prepared(&self) -> bool {
        self.prepared
    }

    /// The open savepoints.
    pub fn savepoints(&self) -> usize {
        self.stack
            .iter()
            .filter(|k| matches!(k, TxKind::Savepoint(_)))
            .count()
    }

    /// The innermost open guard.
    pub fn innermost(&self) -> Option<&TxKind> {
        self.stack.last()
    }

    /// May a statement run? Not on an inactive transaction.
    ///
    /// # Errors
    /// [`Error::InactiveTransaction`] once an inner transaction rolled back the whole.
    pub fn check_active(&self) -> Result<()> {
        if self.inactive {
            Err(Error::InactiveTransaction(INACTIVE.into()))
        } else {
            Ok(())
        }
    }

    /// `begin()`: the real transaction (`BEGIN`) when none is open, else a marker (nothing to
    /// run).
    ///
    /// # Errors
    /// [`Error::InactiveTransaction`] inside an inactive transaction or a prepared two-phase one.
    pub fn begin(&self) -> Result<Begin> {
        if self.stack.is_empty() {
            return Ok(Begin {
                actions: vec![TxAction::Begin],
                kind: TxKind::Root,
            });
        }
        self.check_active()?;
        if self.prepared {
            return Err(Error::InactiveTransaction(
                "the two-phase transaction is prepared; only commit or rollback may follow".into(),
            ));
        }
        Ok(Begin {
            actions: Vec::new(),
            kind: TxKind::Marker,
        })
    }

    /// `begin_nested()`: `SAVEPOINT sa_savepoint_N` inside an open transaction (`N` counts up
    /// per connection, also past a savepoint that failed), else as [`TxState::begin`].
    ///
    /// # Errors
    /// [`Error::InactiveTransaction`] inside an inactive transaction.
    pub fn begin_nested(&mut self) -> Result<Begin> {
        if self.stack.is_empty() {
            return self.begin();
        }
        self.check_active()?;
        self.savepoint_seq += 1;
        let name = format!("sa_savepoint_{}", self.savepoint_seq);
        Ok(Begin {
            actions: vec![TxAction::Sql(format!("SAVEPOINT {name}"))],
            kind: TxKind::Savepoint(name),
        })
    }

    /// `begin_twophase(xid)` in the dialect's `style`; with no `xid`, the one `generate`
    /// makes (the engine's: unique across processes and runs, which takes a clock).
    ///
    /// # Errors
    /// [`Error::Config`] inside another transaction, or for an `xid` that is not 1 to 64
    /// characters of letters, digits, `_`, `-`, `.` or `:` (see [`check_xid`]).
    pub fn begin_twophase(
        &self,
        style: TwoPhase,
        xid: Option<&str>,
        generate: impl FnOnce() -> String,
    ) -> Result<Begin> {
        if self.is_open() {
            return Err(Error::config(
                "begin_twophase() cannot start inside another transaction; commit or roll it \
                 back first",
            ));
        }
        let xid = match xid {
            Some(x) => check_xid(x)?,
            None => generate(),
        };
        let mut actions: Vec<TxAction> = style
            .begin_sql(&xid)
            .into_iter()
            .map(TxAction::Sql)
            .collect();
        if actions.is_empty() {
            actions.push(TxAction::Begin);
        }
        Ok(Begin {
            actions,
            kind: TxKind::TwoPhase { xid, style },
        })
    }

    /// Report how `begin`'s actions went: on success the guard is open (its kind returned),
    /// on failure nothing changed and the error is returned.
    ///
    /// # Errors
    /// The error of the failed action.
    pub fn begun(&mut self, begin: Begin, ran: Result<()>) -> Result<TxKind> {
        ran?;
        self.stack.push(begin.kind.clone());
        Ok(begin.kind)
    }

    /// End the guard `kind`, the innermost one (borrowing makes inner guards end first).
    /// Committing an inactive transaction is refused — for the real transaction after a
    /// `ROLLBACK`, so that the server agrees nothing is left — and so is nothing else: a
    /// savepoint inside an inactive transaction went with it, so its rollback runs nothing.
    pub fn end(&self, kind: &TxKind, end: End) -> Ending {
        let rollback_of_marker = end == End::Rollback && *kind == TxKind::Marker;
        // SQLAlchemy 1.x: a marker rolls back its parent — inside a savepoint, back to the
        // savepoint; the transaction around it goes on.
        if rollback_of_marker
            && !self.inactive
            && let Some(TxKind::Savepoint(name)) = self.marker_parent()
        {
            return Ending {
                actions: vec![TxAction::Sql(format!("ROLLBACK TO SAVEPOINT {name}"))],
                rollback_of_marker: false,
                refused: false,
            };
        }
        let (actions, refused) = match end {
            End::Commit if self.inactive => {
                let actions = if *kind == TxKind::Root {
                    vec![TxAction::Rollback]
                } else {
                    Vec::new()
                };
                (actions, true)
            }
            End::Commit => (self.commit_actions(kind), false),
            End::Rollback => (self.rollback_actions(kind), false),
        };
        Ending {
            actions,
            rollback_of_marker,
            refused,
        }
    }

    /// The guard a marker on top of the stack belongs to: the innermost guard under it that
    /// is not itself a marker.
    fn marker_parent(&self) -> Option<&TxKind> {
        let below = self.stack.len().checked_sub(1)?;
        self.stack[..below]
            .iter()
            .rev()
            .find(|k| **k != TxKind::Marker)
    }

    fn commit_actions(&self, kind: &TxKind) -> Vec<TxAction> {
        match kind {
            TxKind::Root => vec![TxAction::Commit],
            TxKind::Marker => Vec::new(),
            TxKind::Savepoint(name) => vec![TxAction::Sql(format!("RELEASE SAVEPOINT {name}"))],
            TxKind::TwoPhase { xid, style } => {
                sql_or(style.commit_sql(xid, self.prepared), TxAction::Commit)
            }
        }
    }

    fn rollback_actions(&self, kind: &TxKind) -> Vec<TxAction> {
        match kind {
            TxKind::Root | TxKind::Marker => vec![TxAction::Rollback],
            TxKind::Savepoint(_) if self.inactive => Vec::new(),
            TxKind::Savepoint(name) => {
                vec![TxAction::Sql(format!("ROLLBACK TO SAVEPOINT {name}"))]
            }
            TxKind::TwoPhase { xid, style } => {
                sql_or(style.rollback_sql(xid, self.prepared), TxAction::Rollback)
            }
        }
    }

    /// Report how an ending's actions went. The guard is closed either way (the transaction
    /// is over whatever the database said); a marker's rollback leaves the outer guards
    /// inactive; the outermost guard's end makes the connection active again.
    ///
    /// # Errors
    /// The error of the failed action; else [`Error::InactiveTransaction`] for a commit of an
    /// inactive transaction.
    pub fn ended(&mut self, ending: Ending, ran: Result<()>) -> Result<()> {
        self.stack.pop();
        if self.stack.is_empty() {
            self.inactive = false;
            self.prepared = false;
        } else if ending.rollback_of_marker {
            self.inactive = true;
        }
        ran?;
        if ending.refused {
            return Err(Error::InactiveTransaction(NOTHING_TO_COMMIT.into()));
        }
        Ok(())
    }

    /// `prepare()` of the guard `kind`: the first phase of a two-phase commit.
    ///
    /// # Errors
    /// [`Error::Config`] when `kind` is not two-phase or is already prepared;
    /// [`Error::InactiveTransaction`] inside an inactive transaction.
    pub fn prepare(&self, kind: &TxKind) -> Result<Prepare> {
        let TxKind::TwoPhase { xid, style } = kind else {
            return Err(Error::config(
                "prepare() is only for transactions begun with begin_twophase()",
            ));
        };
        self.check_active()?;
        if self.prepared {
            return Err(Error::config(format!(
                "two-phase transaction {xid:?} is already prepared"
            )));
        }
        let mut actions: Vec<TxAction> = style
            .prepare_sql(xid)
            .into_iter()
            .map(TxAction::Sql)
            .collect();
        if style.prepare_ends_session_transaction() {
            actions.push(TxAction::ForgetTransaction);
        }
        Ok(Prepare { actions })
    }

    /// Report how `prepare`'s actions went: on success the transaction is prepared (only
    /// commit or rollback may follow); on failure it is not.
    ///
    /// # Errors
    /// The error of the failed action.
    pub fn prepared(&mut self, _prepare: Prepare, ran: Result<()>) -> Result<()> {
        ran?;
        self.prepared = true;
        Ok(())
    }

    /// The connection was discarded: an open transaction is gone with it, so the guards left
    /// are inactive (only their rollback may follow).
    pub fn invalidate(&mut self) {
        if self.is_open() {
            self.inactive = true;
        }
    }
}

/// The dialect's SQL steps, or the driver's own action when it has none.
fn sql_or(steps: Vec<String>, driver_own: TxAction) -> Vec<TxAction> {
    if steps.is_empty() {
        vec![driver_own]
    } else {
        steps.into_iter().map(TxAction::Sql).collect()
    }
}

/// A caller's two-phase id goes into SQL as a string literal: allow only characters that need
/// no quoting.
///
/// # Errors
/// [`Error::Config`] for an id that is empty, longer than 64 characters, or holds anything but
/// letters, digits, `_`, `-`, `.` and `:`.
pub fn check_xid(xid: &str) -> Result<String> {
    if xid.is_empty()
        || xid.len() > 64
        || !xid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
    {
        return Err(Error::config(format!(
            "two-phase transaction id {xid:?} must be 1 to 64 characters of letters, digits, \
             '_', '-', '.' or ':'"
        )));
    }
    Ok(xid.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake connection: records what it runs, fails the action it is told to.
    #[derive(Default)]
    struct Fake {
        ran: Vec<TxAction>,
        fail_on: Option<TxAction>,
    }

    impl Fake {
        fn run(&mut self, actions: &[TxAction]) -> Result<()> {
            for action in actions {
                if self.fail_on.as_ref() == Some(action) {
                    return Err(Error::config(format!("{action:?} failed")));
                }
                self.ran.push(action.clone());
            }
            Ok(())
        }

        fn take(&mut self) -> Vec<TxAction> {
            std::mem::take(&mut self.ran)
        }
    }

    fn sql(s: &str) -> TxAction {
        TxAction::Sql(s.into())
    }

    fn begin(tx: &mut TxState, db: &mut Fake) -> Result<TxKind> {
        let step = tx.begin()?;
        let ran = db.run(step.actions());
        tx.begun(step, ran)
    }

    fn begin_nested(tx: &mut TxState, db: &mut Fake) -> Result<TxKind> {
        let step = tx.begin_nested()?;
        let ran = db.run(step.actions());
        tx.begun(step, ran)
    }

    fn end(tx: &mut TxState, db: &mut Fake, kind: &TxKind, how: End) -> Result<()> {
        let step = tx.end(kind, how);
        let ran = db.run(step.actions());
        tx.ended(step, ran)
    }

    fn prepare(tx: &mut TxState, db: &mut Fake, kind: &TxKind) -> Result<()> {
        let step = tx.prepare(kind)?;
        let ran = db.run(step.actions());
        tx.prepared(step, ran)
    }

    fn twophase(tx: &mut TxState, db: &mut Fake, style: TwoPhase) -> Result<TxKind> {
        let step = tx.begin_twophase(style, Some("x1"), || unreachable!("an xid was given"))?;
        let ran = db.run(step.actions());
        tx.begun(step, ran)
    }

    #[test]
    fn begin_and_commit_run_the_drivers_own_statements() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        assert_eq!(root, TxKind::Root);
        assert!(tx.is_open());
        end(&mut tx, &mut db, &root, End::Commit).unwrap();
        assert_eq!(db.take(), [TxAction::Begin, TxAction::Commit]);
        assert!(!tx.is_open());
    }

    #[test]
    fn a_begin_inside_a_transaction_is_a_marker_whose_commit_does_nothing() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let marker = begin(&mut tx, &mut db).unwrap();
        assert_eq!(marker, TxKind::Marker);
        db.take();
        end(&mut tx, &mut db, &marker, End::Commit).unwrap();
        assert_eq!(db.take(), []);
        assert!(tx.is_open() && tx.is_active());
        end(&mut tx, &mut db, &root, End::Commit).unwrap();
        assert_eq!(db.take(), [TxAction::Commit]);
    }

    #[test]
    fn inner_rollback_makes_outer_commit_fail() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let marker = begin(&mut tx, &mut db).unwrap();
        db.take();
        end(&mut tx, &mut db, &marker, End::Rollback).unwrap();
        assert_eq!(db.take(), [TxAction::Rollback]);
        assert!(!tx.is_active());
        assert!(matches!(
            tx.check_active(),
            Err(Error::InactiveTransaction(_))
        ));
        let e = end(&mut tx, &mut db, &root, End::Commit).unwrap_err();
        assert_eq!(
            e.to_string(),
            Error::InactiveTransaction(NOTHING_TO_COMMIT.into()).to_string()
        );
        // The real transaction is rolled back again, so that the server agrees.
        assert_eq!(db.take(), [TxAction::Rollback]);
        assert!(!tx.is_open());
        assert!(tx.is_active(), "a new transaction may begin");
    }

    #[test]
    fn a_failed_rollback_of_the_inactive_root_is_the_error_reported() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let marker = begin(&mut tx, &mut db).unwrap();
        end(&mut tx, &mut db, &marker, End::Rollback).unwrap();
        db.fail_on = Some(TxAction::Rollback);
        let e = end(&mut tx, &mut db, &root, End::Commit).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(!tx.is_open());
    }

    #[test]
    fn an_inactive_transaction_refuses_a_new_begin_but_not_a_rollback() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let marker = begin(&mut tx, &mut db).unwrap();
        end(&mut tx, &mut db, &marker, End::Rollback).unwrap();
        assert!(matches!(tx.begin(), Err(Error::InactiveTransaction(_))));
        assert!(matches!(
            tx.begin_nested(),
            Err(Error::InactiveTransaction(_))
        ));
        db.take();
        end(&mut tx, &mut db, &root, End::Rollback).unwrap();
        assert_eq!(db.take(), [TxAction::Rollback]);
        assert!(!tx.is_open() && tx.is_active());
    }

    #[test]
    fn a_marker_rollback_in_a_middle_marker_leaves_both_outer_guards_inactive() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let outer_marker = begin(&mut tx, &mut db).unwrap();
        let inner_marker = begin(&mut tx, &mut db).unwrap();
        end(&mut tx, &mut db, &inner_marker, End::Rollback).unwrap();
        db.take();
        assert!(matches!(
            end(&mut tx, &mut db, &outer_marker, End::Commit),
            Err(Error::InactiveTransaction(_))
        ));
        assert_eq!(db.take(), [], "only the root's refused commit rolls back");
        assert!(!tx.is_active());
        assert!(end(&mut tx, &mut db, &root, End::Commit).is_err());
    }

    /// SQLAlchemy's `test_rollback_to_subtransaction` (1.x): a `begin()` inside a savepoint
    /// rolls back to the savepoint, and the transaction around it goes on.
    #[test]
    fn a_marker_rollback_inside_a_savepoint_rolls_back_to_the_savepoint_only() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let sp = begin_nested(&mut tx, &mut db).unwrap();
        let outer_marker = begin(&mut tx, &mut db).unwrap();
        let marker = begin(&mut tx, &mut db).unwrap();
        db.take();
        end(&mut tx, &mut db, &marker, End::Rollback).unwrap();
        assert_eq!(db.take(), [sql("ROLLBACK TO SAVEPOINT sa_savepoint_1")]);
        assert!(tx.is_active());
        end(&mut tx, &mut db, &outer_marker, End::Commit).unwrap();
        end(&mut tx, &mut db, &sp, End::Commit).unwrap();
        end(&mut tx, &mut db, &root, End::Commit).unwrap();
        assert_eq!(
            db.take(),
            [sql("RELEASE SAVEPOINT sa_savepoint_1"), TxAction::Commit]
        );
    }

    #[test]
    fn savepoints_are_named_in_sequence_and_released_or_rolled_back_to() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let sp1 = begin_nested(&mut tx, &mut db).unwrap();
        let sp2 = begin_nested(&mut tx, &mut db).unwrap();
        assert_eq!(sp2, TxKind::Savepoint("sa_savepoint_2".into()));
        assert_eq!(tx.savepoints(), 2);
        end(&mut tx, &mut db, &sp2, End::Rollback).unwrap();
        end(&mut tx, &mut db, &sp1, End::Commit).unwrap();
        assert!(
            tx.is_active(),
            "a savepoint rollback leaves the transaction active"
        );
        end(&mut tx, &mut db, &root, End::Commit).unwrap();
        assert_eq!(
            db.take(),
            [
                TxAction::Begin,
                sql("SAVEPOINT sa_savepoint_1"),
                sql("SAVEPOINT sa_savepoint_2"),
                sql("ROLLBACK TO SAVEPOINT sa_savepoint_2"),
                sql("RELEASE SAVEPOINT sa_savepoint_1"),
                TxAction::Commit,
            ]
        );
    }

    #[test]
    fn begin_nested_without_a_transaction_begins_one() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        assert_eq!(begin_nested(&mut tx, &mut db).unwrap(), TxKind::Root);
        assert_eq!(db.take(), [TxAction::Begin]);
    }

    #[test]
    fn a_failed_savepoint_is_not_opened_and_its_name_is_not_reused() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        begin(&mut tx, &mut db).unwrap();
        db.fail_on = Some(sql("SAVEPOINT sa_savepoint_1"));
        assert!(begin_nested(&mut tx, &mut db).is_err());
        assert_eq!(tx.savepoints(), 0);
        assert_eq!(tx.innermost(), Some(&TxKind::Root));
        let sp = begin_nested(&mut tx, &mut db).unwrap();
        assert_eq!(sp, TxKind::Savepoint("sa_savepoint_2".into()));
    }

    #[test]
    fn a_failed_begin_opens_nothing() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        db.fail_on = Some(TxAction::Begin);
        assert!(begin(&mut tx, &mut db).is_err());
        assert!(!tx.is_open());
    }

    #[test]
    fn a_failed_commit_still_closes_the_guard() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        let sp = begin_nested(&mut tx, &mut db).unwrap();
        db.fail_on = Some(sql("RELEASE SAVEPOINT sa_savepoint_1"));
        assert!(end(&mut tx, &mut db, &sp, End::Commit).is_err());
        assert_eq!(tx.innermost(), Some(&root));
        db.fail_on = Some(TxAction::Commit);
        assert!(end(&mut tx, &mut db, &root, End::Commit).is_err());
        assert!(!tx.is_open());
    }

    #[test]
    fn a_savepoint_inside_an_inactive_transaction_rolls_back_nothing_and_cannot_commit() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        begin(&mut tx, &mut db).unwrap();
        let sp1 = begin_nested(&mut tx, &mut db).unwrap();
        let sp2 = begin_nested(&mut tx, &mut db).unwrap();
        tx.invalidate(); // the connection was discarded
        db.take();
        end(&mut tx, &mut db, &sp2, End::Rollback).unwrap();
        assert!(matches!(
            end(&mut tx, &mut db, &sp1, End::Commit),
            Err(Error::InactiveTransaction(_))
        ));
        assert_eq!(db.take(), []);
    }

    #[test]
    fn a_discarded_connection_makes_the_transaction_inactive_until_it_ends() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        tx.invalidate();
        assert!(tx.is_active(), "no transaction: nothing to make inactive");
        let root = begin(&mut tx, &mut db).unwrap();
        tx.invalidate();
        assert!(tx.check_active().is_err());
        db.take();
        end(&mut tx, &mut db, &root, End::Rollback).unwrap();
        assert_eq!(db.take(), [TxAction::Rollback]);
        assert!(tx.is_active());
    }

    #[test]
    fn two_phase_with_prepare_transaction_prepares_then_commits_prepared() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let t = twophase(&mut tx, &mut db, TwoPhase::PrepareTransaction).unwrap();
        prepare(&mut tx, &mut db, &t).unwrap();
        assert!(tx.is_prepared());
        end(&mut tx, &mut db, &t, End::Commit).unwrap();
        assert_eq!(
            db.take(),
            [
                TxAction::Begin,
                sql("PREPARE TRANSACTION 'x1'"),
                TxAction::ForgetTransaction,
                sql("COMMIT PREPARED 'x1'"),
            ]
        );
        assert!(!tx.is_open() && !tx.is_prepared());
    }

    #[test]
    fn two_phase_unprepared_commits_and_rolls_back_in_one_phase() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let t = twophase(&mut tx, &mut db, TwoPhase::PrepareTransaction).unwrap();
        end(&mut tx, &mut db, &t, End::Commit).unwrap();
        let t = twophase(&mut tx, &mut db, TwoPhase::Xa).unwrap();
        end(&mut tx, &mut db, &t, End::Rollback).unwrap();
        assert_eq!(
            db.take(),
            [
                TxAction::Begin,
                TxAction::Commit,
                sql("XA START 'x1'"),
                sql("XA END 'x1'"),
                sql("XA ROLLBACK 'x1'"),
            ]
        );
    }

    #[test]
    fn two_phase_xa_prepared_rolls_back_with_xa_rollback() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let t = twophase(&mut tx, &mut db, TwoPhase::Xa).unwrap();
        prepare(&mut tx, &mut db, &t).unwrap();
        end(&mut tx, &mut db, &t, End::Rollback).unwrap();
        assert_eq!(
            db.take(),
            [
                sql("XA START 'x1'"),
                sql("XA END 'x1'"),
                sql("XA PREPARE 'x1'"),
                sql("XA ROLLBACK 'x1'"),
            ]
        );
    }

    #[test]
    fn a_failed_prepare_step_stops_there_and_leaves_the_transaction_unprepared() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let t = twophase(&mut tx, &mut db, TwoPhase::Xa).unwrap();
        db.take();
        db.fail_on = Some(sql("XA END 'x1'"));
        assert!(prepare(&mut tx, &mut db, &t).is_err());
        assert_eq!(db.take(), []);
        assert!(!tx.is_prepared());
        db.fail_on = None;
        end(&mut tx, &mut db, &t, End::Commit).unwrap();
        assert_eq!(
            db.take(),
            [sql("XA END 'x1'"), sql("XA COMMIT 'x1' ONE PHASE")]
        );
    }

    #[test]
    fn a_prepared_transaction_refuses_a_second_prepare_and_a_nested_begin() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let t = twophase(&mut tx, &mut db, TwoPhase::PrepareTransaction).unwrap();
        prepare(&mut tx, &mut db, &t).unwrap();
        assert!(matches!(tx.prepare(&t), Err(Error::Config(_))));
        assert!(matches!(tx.begin(), Err(Error::InactiveTransaction(_))));
    }

    #[test]
    fn prepare_is_only_for_two_phase_transactions() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        let root = begin(&mut tx, &mut db).unwrap();
        assert!(matches!(tx.prepare(&root), Err(Error::Config(_))));
    }

    #[test]
    fn two_phase_cannot_begin_inside_a_transaction() {
        let (mut tx, mut db) = (TxState::default(), Fake::default());
        begin(&mut tx, &mut db).unwrap();
        assert!(matches!(
            tx.begin_twophase(TwoPhase::Xa, None, || "x".into()),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn two_phase_takes_a_generated_id_only_when_none_is_given() {
        let tx = TxState::default();
        let step = tx
            .begin_twophase(TwoPhase::Xa, None, || "gen_1".into())
            .unwrap();
        assert_eq!(step.actions(), [sql("XA START 'gen_1'")]);
        let step = tx
            .begin_twophase(TwoPhase::Xa, Some("mine"), || panic!("not asked"))
            .unwrap();
        assert_eq!(
            step.kind(),
            &TxKind::TwoPhase {
                xid: "mine".into(),
                style: TwoPhase::Xa
            }
        );
    }

    #[test]
    fn an_xid_that_would_need_quoting_is_refused() {
        assert_eq!(check_xid("a-b.c:d_1").unwrap(), "a-b.c:d_1");
        for bad in ["", "it's", "a b", &"x".repeat(65)] {
            assert!(matches!(check_xid(bad), Err(Error::Config(_))), "{bad:?}");
        }
        let tx = TxState::default();
        assert!(
            tx.begin_twophase(TwoPhase::Xa, Some("'"), String::new)
                .is_err()
        );
    }
}
