//! `Session`, the unit of work, on every backend: autobegin, add and flush (parents before
//! children, autoincrement keys filled back), the identity map, delete, commit, rollback,
//! close and drop, execute inside the transaction, the raw driver connection, binds across
//! engines and `sessionmaker`.

mod support;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use quarry::prelude::*;
use quarry::{Value, driver};
use support::{Backend, backends};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

mod model {
    use quarry::prelude::*;

    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users", metadata = META)]
    pub struct User {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50)]
        pub name: String,
        pub hair_color: Option<String>,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "posts", metadata = META)]
    pub struct Post {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = User::id)]
        pub user_id: i64,
        #[column(max_length = 100)]
        pub title: String,
        pub body: Option<String>,
    }

    /// A composite key of text and integer.
    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "tags", metadata = META, primary_key(label, rank))]
    pub struct Tag {
        #[column(max_length = 50)]
        pub label: String,
        pub rank: i32,
        pub note: Option<String>,
    }

    /// Tables of another database, for binds.
    pub static SIDE: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "events", metadata = SIDE)]
    pub struct LogEvent {
        #[column(primary_key)]
        pub id: i64,
        pub what: String,
    }

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "notes", metadata = SIDE)]
    pub struct Note {
        #[column(primary_key)]
        pub id: i64,
        pub text: String,
    }
}

use model::{LogEvent, META, Note, Post, SIDE, Tag, User};

fn setup(b: &Backend) {
    META.create_all(&b.engine).expect("create_all");
}

fn user(name: &str) -> User {
    User {
        id: 0,
        name: name.into(),
        hair_color: None,
    }
}

fn post(user_id: i64, title: &str) -> Post {
    Post {
        id: 0,
        user_id,
        title: title.into(),
        body: None,
    }
}

/// Users committed, as another connection sees them.
fn users_elsewhere(engine: &Engine) -> i64 {
    engine
        .execute(select!(count(User::id) FROM User))
        .unwrap()
        .scalar()
        .unwrap()
}

/// A second connection that sees only committed rows; SQLite in memory has one shared
/// connection, so there is no "elsewhere".
fn has_elsewhere(b: &Backend) -> bool {
    b.name != "sqlite-memory"
}

/// The SQL of every `quarry::engine` event `f` runs on this thread.
///
/// A global subscriber that records into the current thread's buffer while one is open: a
/// scoped one (`with_default`) loses events when another test thread registers the same
/// callsite first (tracing caches the callsite's interest), which made this flaky.
fn statements<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    struct Sql(Option<String>);
    impl Visit for Sql {
        fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "sql" {
                self.0 = Some(value.to_owned());
            }
        }
    }
    thread_local! {
        static SEEN: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
    }
    struct Recorder;
    impl Subscriber for Recorder {
        fn enabled(&self, m: &Metadata<'_>) -> bool {
            m.target() == "quarry::engine"
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut sql = Sql(None);
            event.record(&mut sql);
            if let Some(sql) = sql.0 {
                SEEN.with(|seen| {
                    if let Some(seen) = seen.borrow_mut().as_mut() {
                        seen.push(sql);
                    }
                });
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(Recorder).expect("the only global subscriber");
    });
    SEEN.with(|seen| *seen.borrow_mut() = Some(Vec::new()));
    let out = f();
    let seen = SEEN
        .with(|seen| seen.borrow_mut().take())
        .unwrap_or_default();
    (out, seen)
}

/// The table (`users` or `posts`) of each statement in `sql` that starts with `verb`, in order.
fn tables_of(sql: &[String], verb: &str) -> Vec<&'static str> {
    sql.iter()
        .filter(|s| s.starts_with(verb))
        .map(|s| {
            if s.contains("users") {
                "users"
            } else {
                "posts"
            }
        })
        .collect()
}

/// A SQLite file engine of its own, removed when dropped.
struct SideDb {
    engine: Engine,
    path: PathBuf,
}

impl SideDb {
    fn new(tag: &str) -> SideDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "q_session_{tag}_{}_{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let engine = create_engine(&format!("sqlite:///{}", path.display())).unwrap();
        SIDE.create_all(&engine).unwrap();
        SideDb { engine, path }
    }

    fn count(&self, table: &str) -> i64 {
        self.engine
            .execute(text(format!("SELECT count(*) FROM {table}")).columns::<i64>())
            .unwrap()
            .scalar()
            .unwrap()
    }
}

impl Drop for SideDb {
    fn drop(&mut self) {
        self.engine.dispose();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
fn the_contract_example_runs() {
    for b in backends("session_contract") {
        setup(&b);
        let engine = &b.engine;
        let mut session = Session::new(engine);
        session.add(User {
            id: 0,
            name: "ed".into(),
            hair_color: None,
        });
        session.flush().unwrap();
        let ed: Option<User> = session.get::<User>(1).unwrap();
        assert_eq!(
            ed.as_ref().map(|u| u.name.as_str()),
            Some("ed"),
            "{}",
            b.name
        );
        session.delete(&ed.unwrap());
        session.commit().unwrap();
        let raw = session.connection().unwrap().driver_connection();
        assert!(raw.is_ok(), "{}", b.name);
        session.close();
        assert_eq!(users_elsewhere(engine), 0, "{}", b.name);
    }
}

#[test]
fn flush_fills_autoincrement_keys_in_add_order() {
    for b in backends("session_keys") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        let added = session.add_all([user("ed"), user("wendy"), user("mary")]);
        assert!(added.iter().all(|a| a.id().is_none()), "{}", b.name);
        assert!(!session.in_transaction(), "{}: nothing ran yet", b.name);
        session.flush().unwrap();
        assert!(session.in_transaction(), "{}: autobegin", b.name);
        let ids: Vec<Option<i64>> = added.iter().map(|a| a.id()).collect();
        assert_eq!(ids, [Some(1), Some(2), Some(3)], "{}", b.name);
        assert_eq!(
            added[1].primary_key(),
            Some(vec![Value::I64(2)]),
            "{}",
            b.name
        );
        // The object as flushed, key included, from the handle.
        let wendy: User = session.get(&added[1]).unwrap().unwrap();
        assert_eq!(wendy.id, 2, "{}", b.name);
        assert_eq!(wendy.name, "wendy", "{}", b.name);
        // A later flush continues where the database is.
        let more = session.add(user("jack"));
        session.commit().unwrap();
        assert_eq!(more.id(), Some(4), "{}", b.name);
        assert_eq!(users_elsewhere(&b.engine), 4, "{}", b.name);
    }
}

#[test]
fn flush_inserts_parents_before_children_and_deletes_children_first() {
    for b in backends("session_order") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        // The child is added first; its parent's key is given, so the order is the flush's.
        session.add(Post {
            id: 0,
            user_id: 10,
            title: "first".into(),
            body: None,
        });
        session.add(User {
            id: 10,
            name: "ed".into(),
            hair_color: None,
        });
        session.add(post(10, "second"));
        let ((), sql) = statements(|| session.flush().unwrap());
        let inserts = tables_of(&sql, "INSERT");
        assert_eq!(inserts, ["users", "posts", "posts"], "{}: {sql:?}", b.name);
        let titles: Vec<String> = session
            .execute(select!(Post::title FROM Post ORDER BY Post::id))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(
            titles,
            ["first", "second"],
            "{}: add order within a table",
            b.name
        );

        // Deletes: the parent is queued first, the children go first. (Load everything
        // before queueing: `get` flushes.)
        let ed = session.get::<User>(10).unwrap().unwrap();
        let posts = [1, 2].map(|id| session.get::<Post>(id).unwrap().unwrap());
        session.delete(&ed);
        for post in &posts {
            session.delete(post);
        }
        let ((), sql) = statements(|| session.commit().unwrap());
        let deletes = tables_of(&sql, "DELETE");
        assert_eq!(deletes, ["posts", "posts", "users"], "{}: {sql:?}", b.name);
        assert_eq!(users_elsewhere(&b.engine), 0, "{}", b.name);
    }
}

#[test]
fn get_answers_from_the_identity_map_without_a_query() {
    for b in backends("session_identity") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        let ed = session.add(user("ed"));
        session.flush().unwrap();
        let id = ed.id().unwrap();
        // Change the row behind the session's back, in its own transaction.
        session
            .execute(update!(User SET name = "changed" WHERE User::id == id))
            .unwrap();
        let (found, sql) = statements(|| session.get::<User>(id).unwrap());
        assert_eq!(sql, Vec::<String>::new(), "{}: no query", b.name);
        assert_eq!(
            found.map(|u| u.name),
            Some("ed".to_owned()),
            "{}: the session's copy",
            b.name
        );
        // Any integer width finds the key.
        assert!(
            session.get::<User>(id as i32).unwrap().is_some(),
            "{}",
            b.name
        );
        session.rollback().unwrap();
    }
}

#[test]
fn get_loads_a_row_the_session_does_not_have_once() {
    for b in backends("session_load") {
        setup(&b);
        b.engine
            .execute(insert!(User {
                name: "wendy",
                hair_color: Some("black".to_owned())
            }))
            .unwrap();
        let mut session = Session::new(&b.engine);
        let (found, sql) = statements(|| session.get::<User>(1).unwrap());
        assert_eq!(
            found,
            Some(User {
                id: 1,
                name: "wendy".into(),
                hair_color: Some("black".into())
            }),
            "{}",
            b.name
        );
        assert_eq!(
            sql.iter().filter(|s| s.starts_with("SELECT")).count(),
            1,
            "{}: {sql:?}",
            b.name
        );
        let (again, sql) = statements(|| session.get::<User>(1).unwrap());
        assert_eq!(again, found, "{}", b.name);
        assert!(
            sql.is_empty(),
            "{}: the second get is answered from the map: {sql:?}",
            b.name
        );
        assert_eq!(session.get::<User>(2).unwrap(), None, "{}", b.name);
        // Commit empties the map (expire on commit): the next get reads again.
        session.commit().unwrap();
        let (_, sql) = statements(|| session.get::<User>(1).unwrap());
        assert_eq!(
            sql.iter().filter(|s| s.starts_with("SELECT")).count(),
            1,
            "{}",
            b.name
        );
    }
}

#[test]
fn get_takes_a_composite_key_as_a_tuple() {
    for b in backends("session_composite") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        session.add(Tag {
            label: "rust".into(),
            rank: 1,
            note: Some("first".into()),
        });
        session.commit().unwrap();
        let tag = session.get::<Tag>(("rust", 1)).unwrap();
        assert_eq!(
            tag.and_then(|t| t.note),
            Some("first".to_owned()),
            "{}",
            b.name
        );
        assert_eq!(session.get::<Tag>(("rust", 2)).unwrap(), None, "{}", b.name);
        let by_values = session
            .get::<Tag>(vec![Value::Text("rust".into()), Value::I32(1)])
            .unwrap();
        assert!(by_values.is_some(), "{}", b.name);
        let e = session.get::<Tag>("rust").unwrap_err().to_string();
        assert_eq!(
            e,
            "table tags has a primary key of 2 column(s) (label, rank), \
             but 1 value(s) were given",
            "{}",
            b.name
        );
        session.delete(&Tag {
            label: "rust".into(),
            rank: 1,
            note: None,
        });
        session.commit().unwrap();
        assert_eq!(session.get::<Tag>(("rust", 1)).unwrap(), None, "{}", b.name);
    }
}

#[test]
fn delete_removes_the_row_and_the_identity() {
    for b in backends("session_delete") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        session.add_all([user("ed"), user("wendy")]);
        let ed = session.get::<User>(1).unwrap().unwrap();
        session.delete(&ed);
        assert_eq!(session.get::<User>(1).unwrap(), None, "{}", b.name);
        assert!(session.get::<User>(2).unwrap().is_some(), "{}", b.name);
        session.commit().unwrap();
        assert_eq!(users_elsewhere(&b.engine), 1, "{}", b.name);
    }
}

#[test]
fn deleting_an_object_never_flushed_names_the_table() {
    for b in backends("session_delete_unflushed") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        session.add(user("kept"));
        session.delete(&user("ghost"));
        let e = session.flush().unwrap_err().to_string();
        assert_eq!(
            e,
            "cannot delete the users row with primary key 0: it was never \
             flushed, so the database has no row for it",
            "{}",
            b.name
        );
        // The bad delete left the queue; the rest of the work is still there.
        session.commit().unwrap();
        assert_eq!(users_elsewhere(&b.engine), 1, "{}", b.name);
    }
}

#[test]
fn commit_makes_the_work_visible_to_other_connections() {
    for b in backends("session_commit") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        session.add(user("ed"));
        session.flush().unwrap();
        if has_elsewhere(&b) {
            assert_eq!(
                users_elsewhere(&b.engine),
                0,
                "{}: not yet committed",
                b.name
            );
        }
        session.commit().unwrap();
        assert!(!session.in_transaction(), "{}", b.name);
        assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        assert_eq!(users_elsewhere(&b.engine), 1, "{}", b.name);
        // Still usable: the next use begins a new transaction.
        session.add(user("wendy"));
        session.commit().unwrap();
        assert_eq!(users_elsewhere(&b.engine), 2, "{}", b.name);
    }
}

#[test]
fn rollback_discards_flushed_and_pending_work() {
    for b in backends("session_rollback") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        let ed = session.add(user("ed"));
        session.flush().unwrap();
        assert_eq!(ed.id(), Some(1), "{}", b.name);
        session.add(user("pending"));
        session.rollback().unwrap();
        assert_eq!(
            ed.id(),
            None,
            "{}: the key went with the transaction",
            b.name
        );
        assert!(!session.in_transaction(), "{}", b.name);
        assert_eq!(users_elsewhere(&b.engine), 0, "{}", b.name);
        assert_eq!(
            session.get::<User>(&ed).unwrap_err().to_string(),
            "the added users row has no primary key: its transaction was \
             rolled back",
            "{}",
            b.name
        );
        session.commit().unwrap();
        assert_eq!(
            users_elsewhere(&b.engine),
            0,
            "{}: pending work was dropped",
            b.name
        );
    }
}

#[test]
fn close_returns_the_connection_and_rolls_back() {
    for b in backends("session_close") {
        setup(&b);
        let before = b.engine.pool_status().checked_out;
        let mut session = Session::new(&b.engine);
        assert_eq!(
            b.engine.pool_status().checked_out,
            before,
            "{}: lazy",
            b.name
        );
        session.add(user("ed"));
        session.flush().unwrap();
        assert_eq!(b.engine.pool_status().checked_out, before + 1, "{}", b.name);
        session.close();
        assert_eq!(b.engine.pool_status().checked_out, before, "{}", b.name);
        assert_eq!(users_elsewhere(&b.engine), 0, "{}", b.name);
        // A closed session can be used again.
        session.add(user("wendy"));
        session.commit().unwrap();
        assert_eq!(users_elsewhere(&b.engine), 1, "{}", b.name);
    }
}

#[test]
fn dropping_the_session_rolls_back() {
    for b in backends("session_drop") {
        setup(&b);
        let ed = {
            let mut session = Session::new(&b.engine);
            let ed = session.add(user("ed"));
            session.flush().unwrap();
            assert_eq!(ed.id(), Some(1), "{}", b.name);
            ed
        };
        assert_eq!(ed.id(), None, "{}", b.name);
        assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        assert_eq!(users_elsewhere(&b.engine), 0, "{}", b.name);
    }
}

#[test]
fn execute_runs_inside_the_sessions_transaction_after_a_flush() {
    for b in backends("session_execute") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        session.add(user("ed"));
        // Autoflush: the pending insert runs before the count.
        let n: i64 = session
            .execute(select!(count(User::id) FROM User))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 1, "{}", b.name);
        session
            .execute(insert!(User {
                name: "wendy",
                hair_color: None
            }))
            .unwrap();
        let rows = session
            .execute(text("SELECT name FROM users ORDER BY id"))
            .unwrap();
        let names: Vec<String> = rows.map(|r| r.unwrap().get("name").unwrap()).collect();
        assert_eq!(names, ["ed", "wendy"], "{}", b.name);
        if has_elsewhere(&b) {
            assert_eq!(users_elsewhere(&b.engine), 0, "{}: uncommitted", b.name);
        }
        session.rollback().unwrap();
        assert_eq!(users_elsewhere(&b.engine), 0, "{}", b.name);
    }
}

#[test]
fn connection_reaches_the_native_driver_inside_the_transaction() {
    for b in backends("session_driver") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        session.add(user("ed"));
        session.flush().unwrap();
        let conn = session.connection().unwrap();
        assert!(conn.in_transaction(), "{}", b.name);
        let raw = conn.driver_connection().unwrap();
        if b.is_sqlite() {
            let raw = raw
                .downcast_mut::<driver::native::rusqlite::Connection>()
                .expect("rusqlite");
            assert!(!raw.is_autocommit(), "{}: inside the transaction", b.name);
            let n: i64 = raw
                .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1, "{}: sees the flushed row", b.name);
        }
        #[cfg(feature = "postgres")]
        if b.is_postgres() {
            let raw = raw
                .downcast_mut::<driver::native::postgres::Client>()
                .expect("postgres::Client");
            let row = raw.query_one("SELECT count(*) FROM users", &[]).unwrap();
            assert_eq!(row.get::<_, i64>(0), 1, "{}: sees the flushed row", b.name);
        }
        #[cfg(feature = "mysql")]
        if b.is_mysql() {
            use driver::native::mysql::prelude::Queryable;
            let raw = raw
                .downcast_mut::<driver::native::mysql::Conn>()
                .expect("mysql::Conn");
            let n: Option<i64> = raw.query_first("SELECT count(*) FROM users").unwrap();
            assert_eq!(n, Some(1), "{}: sees the flushed row", b.name);
        }
        session.rollback().unwrap();
        assert_eq!(users_elsewhere(&b.engine), 0, "{}", b.name);
    }
}

#[test]
fn binds_send_each_table_to_its_engine() {
    for b in backends("session_binds") {
        setup(&b);
        let events = SideDb::new("events");
        let notes = SideDb::new("notes");
        let make = Session::builder(&b.engine)
            .bind_metadata(&SIDE, &events.engine)
            .bind_table::<Note>(&notes.engine)
            .sessionmaker();
        let mut session = make.session();
        assert_eq!(
            session.get_bind::<User>().url(),
            b.engine.url(),
            "{}",
            b.name
        );
        assert_eq!(session.get_bind::<LogEvent>().url(), events.engine.url());
        assert_eq!(
            session.get_bind::<Note>().url(),
            notes.engine.url(),
            "a table bind beats its metadata's"
        );

        session.add(user("ed"));
        session.add(LogEvent {
            id: 0,
            what: "signup".into(),
        });
        session.add(Note {
            id: 0,
            text: "hello".into(),
        });
        session.flush().unwrap();
        assert_eq!(b.engine.pool_status().checked_out, 1, "{}", b.name);
        assert_eq!(events.engine.pool_status().checked_out, 1);
        assert_eq!(notes.engine.pool_status().checked_out, 1);
        assert!(session.get::<LogEvent>(1).unwrap().is_some(), "{}", b.name);
        // Rollback rolls back on every engine.
        session.rollback().unwrap();
        assert_eq!(events.count("events"), 0);
        assert_eq!(notes.count("notes"), 0);
        assert_eq!(users_elsewhere(&b.engine), 0, "{}", b.name);

        // A second session of the same maker; commit commits on every engine.
        let mut session = make.session();
        session.add(user("ed"));
        session.add(LogEvent {
            id: 0,
            what: "signup".into(),
        });
        session.add(Note {
            id: 0,
            text: "hello".into(),
        });
        session.commit().unwrap();
        assert_eq!(users_elsewhere(&b.engine), 1, "{}", b.name);
        assert_eq!(events.count("events"), 1);
        assert_eq!(events.count("notes"), 0, "notes went to their own engine");
        assert_eq!(notes.count("notes"), 1);
        assert_eq!(notes.count("events"), 0);
        // execute() routes by the statement's tables.
        let whats: Vec<String> = session
            .execute(select!(LogEvent::what FROM LogEvent))
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(whats, ["signup"], "{}", b.name);
        let n: i64 = session
            .execute(select!(count(Note::id) FROM Note))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 1, "{}", b.name);
        let e = session
            .execute(select!(Note::text, LogEvent::what FROM Note JOIN LogEvent ON LogEvent::id == Note::id))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the statement spans the session's engines: table \"notes\""),
            "{e}"
        );
        session.rollback().unwrap();
        for engine in [&b.engine, &events.engine, &notes.engine] {
            assert_eq!(engine.pool_status().checked_out, 0, "{}", b.name);
        }
        // Loads go to the bound engine too.
        let note = session.get::<Note>(1).unwrap();
        assert_eq!(note.map(|n| n.text), Some("hello".to_owned()));
        session
            .connection_for::<Note>()
            .unwrap()
            .execute(delete!(Note))
            .unwrap();
        session.commit().unwrap();
        assert_eq!(notes.count("notes"), 0);
    }
}

#[test]
fn sessionmaker_makes_independent_sessions_of_one_engine() {
    for b in backends("session_maker") {
        setup(&b);
        let make = sessionmaker(&b.engine);
        let mut first = make.session();
        let mut second = make.clone().session();
        first.add(user("ed"));
        first.commit().unwrap();
        assert_eq!(
            second.get::<User>(1).unwrap().map(|u| u.name),
            Some("ed".to_owned()),
            "{}",
            b.name
        );
        // Each session has its own identity map.
        second
            .execute(update!(User SET name = "edward" WHERE User::id == 1))
            .unwrap();
        second.commit().unwrap();
        assert_eq!(
            first.get::<User>(1).unwrap().map(|u| u.name),
            Some("edward".to_owned()),
            "{}",
            b.name
        );
        drop(first);
        drop(second);
        if b.name == "sqlite-memory" {
            // Each thread would get a memory database of its own.
            continue;
        }
        // Sessions of one maker on other threads.
        std::thread::scope(|s| {
            for name in ["t1", "t2"] {
                let make = make.clone();
                s.spawn(move || {
                    let mut session = make.session();
                    session.add(user(name));
                    session.commit().unwrap();
                });
            }
        });
        assert_eq!(users_elsewhere(&b.engine), 3, "{}", b.name);
    }
}

#[test]
fn a_failed_flush_rolls_back_the_whole_unit_of_work() {
    for b in backends("session_failed_flush") {
        setup(&b);
        let mut session = Session::new(&b.engine);
        let ed = session.add(user("ed"));
        session.flush().unwrap();
        session.add(User {
            id: 1,
            name: "duplicate".into(),
            hair_color: None,
        });
        let e = session.flush().unwrap_err();
        let db = e.as_database().expect("a database error");
        assert_eq!(
            db.kind(),
            quarry::DatabaseErrorKind::UniqueViolation,
            "{}: {e}",
            b.name
        );
        assert!(!session.in_transaction(), "{}: rolled back", b.name);
        assert_eq!(ed.id(), None, "{}", b.name);
        assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        // The session is usable again.
        session.add(user("wendy"));
        session.commit().unwrap();
        let mut names = String::new();
        for u in b.engine.execute(select!(User)).unwrap() {
            write!(names, "{} ", u.unwrap().name).unwrap();
        }
        assert_eq!(names, "wendy ", "{}", b.name);
    }
}
