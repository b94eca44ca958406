//! Horizontal sharding (`ShardedEngine`, `ShardedSession`) on every backend: each backend
//! gives two databases of its own, shard `north_america` and shard `europe`, and each test
//! checks on the shard's own engine where every row went.

mod support;

use quarry::prelude::*;
use quarry::{Error, ShardedEngine, ShardedSession, Value};
use support::Backend;

static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "weather", metadata = META)]
struct Weather {
    #[column(primary_key, autoincrement = false)]
    id: i64,
    continent: String,
    city: String,
}

fn w(id: i64, continent: &str, city: &str) -> Weather {
    Weather {
        id,
        continent: continent.into(),
        city: city.into(),
    }
}

/// Pairs of backends of one kind: (north_america, europe), each with the `weather` table.
fn pairs(tag: &str) -> Vec<(Backend, Backend)> {
    let first = support::backends(&format!("{tag}_na"));
    let mut second = support::backends(&format!("{tag}_eu"));
    let mut out = Vec::new();
    for a in first {
        let Some(i) = second.iter().position(|b| b.name == a.name) else {
            continue;
        };
        let b = second.remove(i);
        META.create_all(&a.engine).expect("create on north_america");
        META.create_all(&b.engine).expect("create on europe");
        out.push((a, b));
    }
    out
}

/// Rows go by continent; a query whose parameters name Europe asks only that shard.
fn sharded(na: &Backend, eu: &Backend) -> ShardedEngine {
    ShardedEngine::builder()
        .shard("north_america", na.engine.clone())
        .shard("europe", eu.engine.clone())
        .shard_chooser(|row| match row.get("continent") {
            Some(Value::Text(c)) if c == "Europe" => "europe",
            _ => "north_america",
        })
        .query_chooser(|q| {
            let europe = Value::Text("Europe".into());
            if q.params().contains(&europe) {
                vec!["europe"]
            } else {
                vec!["north_america", "europe"]
            }
        })
        .build()
        .expect("sharded engine")
}

fn cities_on(engine: &Engine) -> Vec<String> {
    let mut rows = engine
        .execute(Weather::select().order_by(Weather::id.asc()))
        .and_then(|rows| rows.all())
        .expect("read shard");
    rows.sort_by_key(|r| r.id);
    rows.into_iter().map(|r| r.city).collect()
}

#[test]
fn rows_go_to_the_shard_the_chooser_picks_and_reads_concatenate() {
    for (na, eu) in pairs("shard_route") {
        let sharded = sharded(&na, &eu);
        let mut session = ShardedSession::new(&sharded);
        session
            .add_all([
                w(1, "North America", "Toronto"),
                w(2, "Europe", "London"),
                w(3, "North America", "New York"),
                w(4, "Europe", "Dublin"),
            ])
            .expect("add");
        assert!(
            !session.in_transaction(),
            "{}: add checks nothing out",
            na.name
        );
        session.commit().expect("commit");

        // Each row is on its shard only.
        assert_eq!(
            cities_on(&na.engine),
            ["Toronto", "New York"],
            "{}",
            na.name
        );
        assert_eq!(cities_on(&eu.engine), ["London", "Dublin"], "{}", na.name);

        // Every shard asked, in shard order.
        let all = sharded
            .execute(Weather::select().order_by(Weather::id.asc()))
            .expect("read all");
        assert_eq!(
            all.shards().collect::<Vec<_>>(),
            [("north_america", 2), ("europe", 2)],
            "{}",
            na.name
        );
        assert_eq!(all.from_shard("europe")[1].city, "Dublin");
        let ids: Vec<i64> = all.into_iter().map(|r| r.id).collect();
        assert_eq!(ids, [1, 3, 2, 4], "{}: concatenated per shard", na.name);

        // The query chooser reads the parameters: Europe's query asks Europe only.
        let europe = sharded
            .execute(Weather::select().filter(Weather::continent.eq("Europe")))
            .expect("read europe");
        assert_eq!(
            europe.shards().collect::<Vec<_>>(),
            [("europe", 2)],
            "{}",
            na.name
        );

        // Writes through the query chooser: the counts add up over the shards.
        let changed = sharded
            .execute(update!(Weather SET city = "?" WHERE Weather::id > 2))
            .expect("update");
        assert_eq!(changed.rowcount(), 2, "{}", na.name);
        assert_eq!(cities_on(&na.engine), ["Toronto", "?"], "{}", na.name);
        assert_eq!(cities_on(&eu.engine), ["London", "?"], "{}", na.name);

        // An insert straight on the engine follows the shard chooser too.
        assert_eq!(
            sharded
                .shard_for(&w(5, "Europe", "Paris"))
                .expect("shard_for"),
            "europe"
        );
        sharded
            .insert(&w(5, "Europe", "Paris"))
            .expect("insert paris");
        assert_eq!(
            cities_on(&eu.engine),
            ["London", "?", "Paris"],
            "{}",
            na.name
        );
        assert_eq!(sharded.pool_status().len(), 2);
        assert!(
            sharded
                .pool_status()
                .iter()
                .all(|(_, s)| s.checked_out == 0),
            "{}: every connection back",
            na.name
        );
    }
}

#[test]
fn identity_keys_include_the_shard() {
    for (na, eu) in pairs("shard_identity") {
        // The same primary key on both shards: two rows.
        na.engine
            .execute(Weather::insert(&w(1, "North America", "Toronto")))
            .expect("na row");
        eu.engine
            .execute(Weather::insert(&w(1, "Europe", "London")))
            .expect("eu row");

        let sharded = ShardedEngine::builder()
            .shard("north_america", na.engine.clone())
            .shard("europe", eu.engine.clone())
            // Keys are tried on Europe first.
            .identity_chooser(|_table, _key| ["europe", "north_america"])
            .build()
            .expect("sharded");
        let mut session = ShardedSession::new(&sharded);

        let toronto: Weather = session
            .get_from("north_america", 1)
            .expect("get na")
            .expect("toronto");
        let london: Weather = session
            .get_from("europe", 1)
            .expect("get eu")
            .expect("london");
        assert_eq!(
            (toronto.city.as_str(), london.city.as_str()),
            ("Toronto", "London")
        );

        // Each shard's identity map answers for its own key: a change made behind the
        // session's back is not seen. (Not on SQLite, where the session's open transaction
        // holds the one memory connection, or the file's lock.)
        let behind = !na.is_sqlite();
        if behind {
            na.engine
                .execute(update!(Weather SET city = "changed" WHERE Weather::id == 1))
                .expect("change na behind the session");
        }
        let again: Weather = session.get_from("north_america", 1).unwrap().unwrap();
        assert_eq!(again.city, "Toronto", "{}: from the identity map", na.name);

        // `get` tries the shards in the identity chooser's order.
        let (shard, first): (String, Weather) =
            session.get_with_shard(1_i64).expect("get").expect("found");
        assert_eq!((shard.as_str(), first.city.as_str()), ("europe", "London"));
        assert_eq!(session.get::<Weather>(99).expect("get 99"), None);

        // Deleting through the session goes to the object's own shard.
        session.rollback().expect("rollback");
        let sharded = self::sharded(&na, &eu);
        let mut session = ShardedSession::new(&sharded);
        session
            .delete(&w(1, "Europe", "London"))
            .expect("delete london");
        session.commit().expect("commit delete");
        assert_eq!(cities_on(&eu.engine), Vec::<String>::new(), "{}", na.name);
        let na_city = if behind { "changed" } else { "Toronto" };
        assert_eq!(cities_on(&na.engine), [na_city], "{}", na.name);
    }
}

#[test]
fn a_flush_failing_on_one_shard_commits_nothing_anywhere() {
    for (na, eu) in pairs("shard_atomic_flush") {
        eu.engine
            .execute(Weather::insert(&w(7, "Europe", "Rome")))
            .expect("existing row");
        let sharded = sharded(&na, &eu);
        let mut session = ShardedSession::new(&sharded);
        session
            .add(w(1, "North America", "Boston"))
            .expect("add boston");
        // Key 7 is taken on Europe: its flush fails.
        session.add(w(7, "Europe", "Milan")).expect("add milan");
        let err = session.commit().expect_err("duplicate key on europe");
        assert!(matches!(err, Error::Database(_)), "{}: {err:?}", na.name);
        assert!(!session.in_transaction(), "{}", na.name);
        assert_eq!(cities_on(&na.engine), Vec::<String>::new(), "{}", na.name);
        assert_eq!(cities_on(&eu.engine), ["Rome"], "{}", na.name);
        // The pools are intact and the session usable.
        session
            .add(w(2, "North America", "Chicago"))
            .expect("add chicago");
        session.commit().expect("commit after the failure");
        assert_eq!(cities_on(&na.engine), ["Chicago"], "{}", na.name);
    }
}

#[test]
fn a_chooser_naming_no_shard_is_an_error_naming_it_and_the_shards() {
    for (na, eu) in pairs("shard_errors") {
        let sharded = ShardedEngine::builder()
            .shard("north_america", na.engine.clone())
            .shard("europe", eu.engine.clone())
            .shard_chooser(|_| "asia")
            .query_chooser(|_| Vec::<String>::new())
            .build()
            .expect("sharded");
        let mut session = ShardedSession::new(&sharded);
        let err = session
            .add(w(1, "Asia", "Tokyo"))
            .expect_err("no shard asia");
        assert_eq!(
            err.to_string(),
            "the shard chooser picked shard \"asia\" for a row of weather, \
             but there is no such shard; the shards are \"north_america\", \"europe\""
        );
        let err = sharded
            .execute(Weather::select())
            .expect_err("no shard chosen");
        assert!(err.to_string().contains("picked no shard"), "{err}");
        assert!(err.to_string().contains("FROM weather"), "{err}");
        let err = sharded.on("asia").expect_err("unknown shard");
        assert!(err.to_string().contains("no shard \"asia\""), "{err}");

        // Several shards and no chooser: a new row has nowhere to go.
        let unchosen = ShardedEngine::builder()
            .shard("north_america", na.engine.clone())
            .shard("europe", eu.engine.clone())
            .build()
            .expect("sharded");
        let err = unchosen
            .insert(&w(1, "Europe", "Oslo"))
            .expect_err("no chooser");
        assert!(err.to_string().contains("no shard chooser"), "{err}");
        assert_eq!(cities_on(&na.engine), Vec::<String>::new());
        assert_eq!(cities_on(&eu.engine), Vec::<String>::new());
    }
}

#[test]
fn a_sharded_engine_needs_shards_with_names_of_their_own() {
    let err = ShardedEngine::builder().build().expect_err("no shards");
    assert!(err.to_string().contains("at least one shard"), "{err}");
    let engine = create_engine("sqlite://").expect("engine");
    let err = ShardedEngine::builder()
        .shard("a", engine.clone())
        .shard("a", engine.clone())
        .build()
        .expect_err("twice");
    assert!(
        err.to_string().contains("shard \"a\" is added twice"),
        "{err}"
    );
    // One shard needs no chooser.
    let one = ShardedEngine::builder()
        .shard("only", engine)
        .build()
        .expect("one shard");
    assert_eq!(one.shard_names().collect::<Vec<_>>(), ["only"]);
}
