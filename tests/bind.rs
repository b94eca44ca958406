//! Bound metadata and implicit execution on every backend: `META.bind(&engine)`,
//! `stmt.execute()`, `create_all(None)` and friends, re-bind and unbind, the unbound errors,
//! several `MetaData` bound to different engines, and a statement across two binds.
//!
//! A bind is process-wide state of a `static`, so every test here has `MetaData` of its own.

mod support;

use quarry::prelude::*;
use support::backends;

mod implicit {
    use super::*;
    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, Clone, PartialEq)]
    #[table(name = "users", metadata = META)]
    pub struct User {
        #[column(primary_key)]
        pub id: i64,
        #[column(max_length = 50)]
        pub name: String,
    }
}

#[test]
fn implicit_execution_runs_statements_on_the_bound_engine() {
    use implicit::{META, User};
    for b in backends("bind_implicit") {
        META.bind(&b.engine);
        assert!(META.is_bound());
        META.create_all(None).unwrap();
        insert!(User { name: "ed" }).execute().unwrap();
        let inserted = insert!(User { name: "wendy" }).execute().unwrap();
        assert_eq!(inserted.last_insert_id(), Some(2), "{}", b.name);
        update!(User SET name = "jack" WHERE User::id == 1)
            .execute()
            .unwrap();

        let rows = select!(User ORDER BY User::id).execute().unwrap();
        assert!(
            rows.owns_connection(),
            "{}: the rows hold the connection",
            b.name
        );
        let users = rows.all().unwrap();
        assert_eq!(
            users,
            [
                User {
                    id: 1,
                    name: "jack".into()
                },
                User {
                    id: 2,
                    name: "wendy".into()
                }
            ],
            "{}",
            b.name
        );
        let n: i64 = select!(count(User::id) FROM User)
            .execute()
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 2);
        delete!(User WHERE User::id == 2).execute().unwrap();
        let names: Vec<String> = select!(User::name FROM User)
            .execute()
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(names, ["jack"], "{}", b.name);
        // Everything ran on the bound engine's database.
        let mut conn = b.engine.connect().unwrap();
        let n: i64 = conn
            .execute(select!(count(User::id) FROM User))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 1, "{}", b.name);
        drop(conn);
        if b.name != "sqlite-memory" {
            assert_eq!(b.engine.pool_status().checked_out, 0, "{}", b.name);
        }
        META.drop_all(None).unwrap();
        META.unbind();
    }
}

mod ddl {
    use super::*;
    pub static META: MetaData = MetaData::new();

    #[derive(Table)]
    #[table(name = "parents", metadata = META)]
    pub struct Parent {
        #[column(primary_key)]
        pub id: i64,
    }

    #[derive(Table)]
    #[table(name = "children", metadata = META)]
    pub struct Child {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Parent::id)]
        pub parent_id: i64,
    }
}

#[test]
fn create_all_drop_all_and_table_ddl_use_the_bind() {
    use ddl::{Child, META, Parent};
    for b in backends("bind_ddl") {
        META.bind(&b.engine);
        META.create_all(None).unwrap();
        assert!(Parent::table().exists(None).unwrap(), "{}", b.name);
        assert!(Child::table().exists(None).unwrap(), "{}", b.name);
        // The explicit engine still works beside the bind.
        assert!(Child::table().exists(&b.engine).unwrap(), "{}", b.name);
        META.drop_all(None).unwrap();
        assert!(!Parent::table().exists(None).unwrap(), "{}", b.name);
        assert!(!Child::table().exists(None).unwrap(), "{}", b.name);
        Parent::table().create(None).unwrap();
        assert!(Parent::table().exists(None).unwrap(), "{}", b.name);
        Parent::table().drop(None).unwrap();
        assert!(!Parent::table().exists(None).unwrap(), "{}", b.name);
        META.unbind();
    }
}

mod unbound {
    use super::*;
    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug)]
    #[table(name = "lonely", metadata = META)]
    pub struct Lonely {
        #[column(primary_key)]
        pub id: i64,
    }
}

#[test]
fn unbound_execution_names_the_table_and_how_to_bind_it() {
    use unbound::{Lonely, META};
    let e = select!(Lonely).execute().unwrap_err();
    assert!(matches!(e, Error::Unbound(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "table \"lonely\" is not bound to an engine: its MetaData META has no bind; \
         call META.bind(&engine) first, or run the statement with engine.execute(…) \
         or conn.execute(…)"
    );
    let e = insert!(Lonely {}).execute().unwrap_err().to_string();
    assert!(e.starts_with("table \"lonely\" is not bound"), "{e}");

    let e = META.create_all(None).unwrap_err().to_string();
    assert_eq!(
        e,
        "MetaData META is not bound to an engine; call META.bind(&engine) \
         first, or pass the engine: META.create_all(&engine)"
    );
    assert!(
        META.drop_all(None)
            .unwrap_err()
            .to_string()
            .contains("not bound")
    );
    let e = Lonely::table().create(None).unwrap_err().to_string();
    assert!(
        e.starts_with("table \"lonely\" is not bound to an engine")
            && e.contains("META.bind(&engine)"),
        "{e}"
    );
    assert!(Lonely::table().exists(None).is_err());

    let e = text("SELECT 1").execute().unwrap_err().to_string();
    assert!(
        e.contains("names no declared table") && e.contains("engine.execute"),
        "{e}"
    );
    // Nothing was lost: the statement still runs on an engine.
    let engine = create_engine("sqlite://").unwrap();
    META.create_all(&engine).unwrap();
    assert!(
        engine
            .execute(select!(Lonely))
            .unwrap()
            .all()
            .unwrap()
            .is_empty()
    );
}

mod rebind {
    use super::*;
    pub static META: MetaData = MetaData::new();

    #[derive(Table, Debug, PartialEq)]
    #[table(name = "notes", metadata = META)]
    pub struct Note {
        #[column(primary_key)]
        pub id: i64,
        pub body: String,
    }
}

#[test]
fn binding_again_moves_implicit_execution_to_the_new_engine() {
    use rebind::{META, Note};
    for b in backends("bind_rebind") {
        let other = create_engine("sqlite://").unwrap();
        META.bind(&b.engine);
        META.create_all(None).unwrap();
        insert!(Note { body: "first" }).execute().unwrap();

        META.bind(&other);
        assert!(META.get_bind().is_some());
        META.create_all(None).unwrap();
        assert!(
            select!(Note).execute().unwrap().all().unwrap().is_empty(),
            "{}",
            b.name
        );
        insert!(Note { body: "second" }).execute().unwrap();

        META.bind(&b.engine);
        let bodies: Vec<String> = select!(Note::body FROM Note)
            .execute()
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(bodies, ["first"], "{}", b.name);
        META.unbind();
        assert!(META.get_bind().is_none());
        assert!(matches!(select!(Note).execute(), Err(Error::Unbound(_))));
        META.drop_all(&b.engine).unwrap();
    }
}

mod shards {
    use super::*;
    pub static ACCOUNTS: MetaData = MetaData::new();
    pub static EVENTS: MetaData = MetaData::new();
    pub static LOOSE: MetaData = MetaData::new();

    #[derive(Table, Debug, PartialEq)]
    #[table(name = "accounts", metadata = ACCOUNTS)]
    pub struct Account {
        #[column(primary_key)]
        pub id: i64,
        pub owner: String,
    }

    #[derive(Table, Debug, PartialEq)]
    #[table(name = "events", metadata = EVENTS)]
    pub struct Event {
        #[column(primary_key)]
        pub id: i64,
        pub account_id: i64,
        pub what: String,
    }

    #[derive(Table, Debug, PartialEq)]
    #[table(name = "loose", metadata = LOOSE)]
    pub struct Loose {
        #[column(primary_key)]
        pub id: i64,
        pub account_id: i64,
    }
}

#[test]
fn metadata_bound_to_different_engines_route_each_statement_to_its_own() {
    use shards::{ACCOUNTS, Account, EVENTS, Event, LOOSE, Loose};
    for b in backends("bind_shards") {
        // Accounts live on the backend, events in a SQLite database of their own.
        let events_db = std::env::temp_dir().join(format!(
            "quarry_bind_events_{}_{}.db",
            std::process::id(),
            b.name
        ));
        let _ = std::fs::remove_file(&events_db);
        let events_engine = create_engine(&format!("sqlite:///{}", events_db.display())).unwrap();
        ACCOUNTS.bind(&b.engine);
        EVENTS.bind(&events_engine);
        ACCOUNTS.create_all(None).unwrap();
        EVENTS.create_all(None).unwrap();

        insert!(Account { owner: "ed" }).execute().unwrap();
        insert!(Event {
            account_id: 1,
            what: "opened"
        })
        .execute()
        .unwrap();
        insert!(Event {
            account_id: 1,
            what: "closed"
        })
        .execute()
        .unwrap();

        let accounts = b.engine.execute(select!(Account)).unwrap().all().unwrap();
        assert_eq!(
            accounts,
            [Account {
                id: 1,
                owner: "ed".into()
            }],
            "{}",
            b.name
        );
        let n: i64 = events_engine
            .execute(select!(count(Event::id) FROM Event))
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(n, 2, "{}", b.name);
        assert!(!Event::table().exists(&b.engine).unwrap(), "{}", b.name);
        assert!(
            !Account::table().exists(&events_engine).unwrap(),
            "{}",
            b.name
        );

        // A statement over both binds is refused, naming both sides.
        let e = select!(Account::owner, Event::what FROM Account
                JOIN Event ON Event::account_id == Account::id)
        .execute()
        .unwrap_err();
        assert!(matches!(e, Error::Unbound(_)), "{e:?}");
        let e = e.to_string();
        assert!(
            e.starts_with("the statement spans engines: table \"accounts\" is bound to ")
                && e.contains("(MetaData ACCOUNTS) and table \"events\" to sqlite:///")
                && e.contains("(MetaData EVENTS)"),
            "{e}"
        );
        // A subquery counts as well.
        let e = select!(Account WHERE Account::id.in_(select!(Event::account_id FROM Event)))
            .execute()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("the statement spans engines"), "{e}");
        // A bound table joined to an unbound one: no silent choice either.
        let e = select!(Account::owner FROM Account JOIN Loose ON Loose::account_id == Account::id)
            .execute()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("table \"loose\" is not bound to an engine: its MetaData LOOSE")
                && e.contains("bind it to the engine of table \"accounts\""),
            "{e}"
        );
        assert!(!LOOSE.is_bound());

        ACCOUNTS.drop_all(None).unwrap();
        ACCOUNTS.unbind();
        EVENTS.unbind();
        drop(events_engine);
        let _ = std::fs::remove_file(&events_db);
    }
}
