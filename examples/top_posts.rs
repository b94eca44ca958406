//! A report the library-loans trial had to write with `text()`: each author's best posts — the
//! top N per group — with a CTE and `row_number()`, typed end to end, on any backend.
//!
//! ```text
//! cargo run --example top_posts                      # a SQLite file in the temp dir
//! QUARRY_EXAMPLE_URL=postgresql://postgres@127.0.0.1/test cargo run --example top_posts --features postgres
//! QUARRY_EXAMPLE_URL=mysql://root@127.0.0.1/test cargo run --example top_posts --features mysql
//! ```

use quarry::Expr;
use quarry::prelude::*;

pub static META: MetaData = MetaData::new();

// Table names of their own, so that the examples can share a server's database.
#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "top_authors", metadata = META)]
pub struct Author {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "top_posts", metadata = META)]
pub struct Post {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Author::id)]
    pub author_id: i64,
    #[column(max_length = 100)]
    pub title: String,
    pub likes: i64,
}

/// `QUARRY_EXAMPLE_URL`, else a SQLite file in the temp directory.
fn example_url(name: &str) -> String {
    std::env::var("QUARRY_EXAMPLE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("quarry_example_{name}.db"));
        format!("sqlite:///{}", path.display())
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = create_engine(&example_url("top_posts"))?;
    META.drop_all(&engine)?; // leftovers of an interrupted run
    META.create_all(&engine)?;
    let mut conn = engine.connect()?;
    for name in ["ada", "brian", "carla"] {
        conn.execute(insert!(Author { name }))?;
    }
    let posts = [
        (1, "engines", 40),
        (1, "pools", 75),
        (1, "dialects", 12),
        (2, "sessions", 8),
        (2, "savepoints", 30),
        (3, "windows", 99),
    ];
    for (author_id, title, likes) in posts {
        conn.execute(insert!(Post {
            author_id,
            title,
            likes
        }))?;
    }

    // WITH ranked AS (SELECT …, row_number() OVER (PARTITION BY author_id ORDER BY likes DESC)
    // AS rank …) SELECT … FROM top_authors JOIN ranked … WHERE ranked.rank <= 2
    let ranked = select!(Post::author_id, Post::title, Post::likes,
        row_number().over(partition_by(Post::author_id).order_by(Post::likes.desc())).label("rank")
        FROM Post)
    .cte("ranked");
    let rank: Expr<i64> = ranked.column("rank")?;
    let per_author = 2;
    let report = select!(Author::name, ranked.col(Post::title), ranked.col(Post::likes), rank.clone()
        FROM Author JOIN ranked ON ranked.col(Post::author_id) == Author::id
        WHERE rank.le(per_author)
        ORDER BY Author::name, ranked.col(Post::likes) DESC);
    println!("{}\n", report.compile(engine.dialect())?.sql());

    let rows: Vec<(String, String, i64, i64)> = conn.execute(report)?.all()?;
    for (author, title, likes, rank) in &rows {
        println!("  {author:<6} #{rank} {title:<11} {likes:>3} likes");
    }
    let expected = [
        ("ada", "pools", 1),
        ("ada", "engines", 2),
        ("brian", "savepoints", 1),
        ("brian", "sessions", 2),
        ("carla", "windows", 1),
    ];
    let got: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|(a, t, _, r)| (a.as_str(), t.as_str(), *r))
        .collect();
    assert_eq!(got, expected);
    META.drop_all(&engine)?;
    Ok(())
}
