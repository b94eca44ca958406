//! What every contender runs: the backends, the workloads (after Diesel's own benchmark suite),
//! the schema and the seed data, and the [`Contender`] trait.

use std::fmt;

use anyhow::Result;

/// A database the benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in memory: every contender's connection is a database of its own, seeded alike.
    Sqlite,
    /// PostgreSQL: one database, seeded once per case, shared by the contenders.
    Postgres,
    /// MySQL / MariaDB: as PostgreSQL.
    Mysql,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::Mysql];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    pub fn parse(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Whether each contender has a database of its own (seeded through its own connection).
    pub fn per_connection_database(self) -> bool {
        self == Backend::Sqlite
    }

    /// `CREATE TABLE`s of the three tables, after dropping them.
    pub fn schema(self) -> &'static str {
        match self {
            Backend::Sqlite => {
                "DROP TABLE IF EXISTS comments; DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS users;
                 CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
                 CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),
                                     title TEXT NOT NULL, body TEXT);
                 CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id),
                                        text TEXT NOT NULL);"
            }
            Backend::Postgres => {
                "DROP TABLE IF EXISTS comments; DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS users;
                 CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
                 CREATE TABLE posts (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users (id),
                                     title TEXT NOT NULL, body TEXT);
                 CREATE TABLE comments (id BIGSERIAL PRIMARY KEY, post_id BIGINT NOT NULL REFERENCES posts (id),
                                        text TEXT NOT NULL);"
            }
            Backend::Mysql => {
                "DROP TABLE IF EXISTS comments; DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS users;
                 CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
                 CREATE TABLE posts (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL,
                                     title TEXT NOT NULL, body TEXT,
                                     FOREIGN KEY (user_id) REFERENCES users (id));
                 CREATE TABLE comments (id BIGINT AUTO_INCREMENT PRIMARY KEY, post_id BIGINT NOT NULL,
                                        text TEXT NOT NULL, FOREIGN KEY (post_id) REFERENCES posts (id));"
            }
        }
    }

    /// Empties the three tables and restarts their ids at 1, before each case is seeded.
    pub fn empty_tables(self) -> &'static str {
        match self {
            Backend::Sqlite => "DELETE FROM comments; DELETE FROM posts; DELETE FROM users",
            Backend::Postgres => "TRUNCATE comments, posts, users RESTART IDENTITY",
            Backend::Mysql => {
                "SET FOREIGN_KEY_CHECKS = 0; TRUNCATE TABLE comments; TRUNCATE TABLE posts;
                 TRUNCATE TABLE users; SET FOREIGN_KEY_CHECKS = 1"
            }
        }
    }

    /// Empties `users` between rounds of `insert` (outside the timed part).
    pub fn clear_users(self) -> &'static str {
        match self {
            Backend::Postgres => "TRUNCATE users CASCADE",
            Backend::Sqlite | Backend::Mysql => "DELETE FROM users",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `SELECT id, name, hair_color FROM users`: load all of `n` users (hair color NULL).
    TrivialQuery,
    /// `users LEFT OUTER JOIN posts ON posts.user_id = users.id WHERE users.hair_color = 'black'`
    /// as `(User, Option<Post>)`: `n` users, even ones black, odd ones brown, no posts (so every
    /// post is `None`, as in Diesel's benchmark): `(n + 1) / 2` rows.
    MediumComplexQuery,
    /// One multi-row `INSERT` of `n` users (`name = "User {i}"`, `hair_color = "hair_color"`),
    /// built from values each iteration. `users` is emptied before each contender's turn.
    Insert,
    /// `n` single-row lookups by primary key (`id = 1..=n`), each into an `Option<User>`.
    PkLookup,
    /// Users, then their posts (`user_id IN (…)`), then those posts' comments (`post_id IN
    /// (…)`), in three queries, grouped into `Vec<(User, Vec<(Post, Vec<Comment>)>)>`: `n`
    /// users (black and brown), 10 posts each, 10 comments per post.
    LoadingAssociations,
}

impl Workload {
    pub const ALL: [Workload; 5] = [
        Workload::TrivialQuery,
        Workload::MediumComplexQuery,
        Workload::Insert,
        Workload::PkLookup,
        Workload::LoadingAssociations,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::TrivialQuery => "trivial_query",
            Workload::MediumComplexQuery => "medium_complex_query",
            Workload::Insert => "insert",
            Workload::PkLookup => "pk_lookup",
            Workload::LoadingAssociations => "loading_associations",
        }
    }

    pub fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The sizes the issue asks for.
    pub fn sizes(self) -> &'static [usize] {
        match self {
            Workload::TrivialQuery => &[1, 100, 10_000],
            Workload::MediumComplexQuery => &[1, 100, 1_000],
            Workload::Insert => &[100],
            Workload::PkLookup => &[1_000],
            Workload::LoadingAssociations => &[9],
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One cell of the benchmark: a workload of size `n` on a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub workload: Workload,
    pub backend: Backend,
    pub n: usize,
}

impl Case {
    /// SQL that fills the freshly created tables for this case (plain literals, no parameters).
    pub fn seed(&self) -> Vec<String> {
        let n = self.n;
        let hair = |i: usize| {
            if i.is_multiple_of(2) {
                "'black'"
            } else {
                "'brown'"
            }
        };
        match self.workload {
            Workload::TrivialQuery | Workload::PkLookup => {
                values_in_chunks("INSERT INTO users (name, hair_color) VALUES ", n, |i| {
                    format!("('User {i}', NULL)")
                })
            }
            Workload::MediumComplexQuery => {
                values_in_chunks("INSERT INTO users (name, hair_color) VALUES ", n, |i| {
                    format!("('User {i}', {})", hair(i))
                })
            }
            Workload::Insert => Vec::new(),
            Workload::LoadingAssociations => {
                let mut sql =
                    values_in_chunks("INSERT INTO users (name, hair_color) VALUES ", n, |i| {
                        format!("('User {i}', {})", hair(i))
                    });
                // Ids are 1..=n on fresh tables; posts 1..=10n, comments 1..=100n.
                sql.extend(values_in_chunks(
                    "INSERT INTO posts (user_id, title, body) VALUES ",
                    n * POSTS_PER_USER,
                    |i| {
                        let user = i / POSTS_PER_USER + 1;
                        format!(
                            "({user}, 'Post {} by user {user}', NULL)",
                            i % POSTS_PER_USER
                        )
                    },
                ));
                sql.extend(values_in_chunks(
                    "INSERT INTO comments (post_id, text) VALUES ",
                    n * POSTS_PER_USER * COMMENTS_PER_POST,
                    |i| {
                        let post = i / COMMENTS_PER_POST + 1;
                        format!(
                            "({post}, 'Comment {} for post {post}')",
                            i % COMMENTS_PER_POST
                        )
                    },
                ));
                sql
            }
        }
    }

    /// What [`Contender::run`] returns for this case: the number of rows it loaded or
    /// inserted (comments, for `loading_associations`). Every contender must agree.
    pub fn expected(&self) -> usize {
        match self.workload {
            Workload::TrivialQuery | Workload::Insert | Workload::PkLookup => self.n,
            Workload::MediumComplexQuery => self.n.div_ceil(2),
            Workload::LoadingAssociations => self.n * POSTS_PER_USER * COMMENTS_PER_POST,
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} n={} on {}", self.workload, self.n, self.backend)
    }
}

pub const POSTS_PER_USER: usize = 10;
pub const COMMENTS_PER_POST: usize = 10;

fn values_in_chunks(head: &str, n: usize, row: impl Fn(usize) -> String) -> Vec<String> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(1000)
        .map(|chunk| {
            let rows: Vec<String> = chunk.iter().map(|&i| row(i)).collect();
            format!("{head}{}", rows.join(", "))
        })
        .collect()
}

/// The rows as plain structs, for the contenders without a derive of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub text: String,
}

/// The users of one `insert` iteration: `name = "User {i}"`, `hair_color = "hair_color"`.
pub fn new_user_name(i: usize) -> String {
    format!("User {i}")
}

pub const NEW_USER_HAIR: &str = "hair_color";

/// `loading_associations`' result: each user with its posts, each post with its comments.
pub type Grouped<U, P, C> = Vec<(U, Vec<(P, Vec<C>)>)>;

/// Groups `loading_associations`' three results the way every contender does (by hash map,
/// as Diesel's `grouped_by` does by index), and counts the comments.
pub fn group<U, P, C>(
    users: Vec<U>,
    posts: Vec<P>,
    comments: Vec<C>,
    user_id: impl Fn(&U) -> i64,
    post_id: impl Fn(&P) -> i64,
    post_user: impl Fn(&P) -> i64,
    comment_post: impl Fn(&C) -> i64,
) -> Grouped<U, P, C> {
    use std::collections::HashMap;
    let mut by_post: HashMap<i64, Vec<C>> = HashMap::with_capacity(posts.len());
    for c in comments {
        by_post.entry(comment_post(&c)).or_default().push(c);
    }
    let mut by_user: HashMap<i64, Vec<(P, Vec<C>)>> = HashMap::with_capacity(users.len());
    for p in posts {
        let cs = by_post.remove(&post_id(&p)).unwrap_or_default();
        by_user.entry(post_user(&p)).or_default().push((p, cs));
    }
    users
        .into_iter()
        .map(|u| {
            let ps = by_user.remove(&user_id(&u)).unwrap_or_default();
            (u, ps)
        })
        .collect()
}

/// The number of comments in a grouped result.
pub fn count_comments<U, P, C>(grouped: &Grouped<U, P, C>) -> usize {
    grouped
        .iter()
        .flat_map(|(_, posts)| posts.iter().map(|(_, cs)| cs.len()))
        .sum()
}

/// One way of running the workloads on one backend: a connection of its own, opened when
/// the contender is made (PostgreSQL connections with `application_name = quarry_bench`, so
/// that the harness finds and pins their server backends).
pub trait Contender {
    /// Run SQL without parameters or results (`;`-separated) on this contender's connection:
    /// the schema and seed of SQLite, whose memory database is per connection.
    fn batch(&mut self, sql: &str) -> Result<()>;

    /// Get ready for `case` after the harness seeded it (prepare statements, …); untimed.
    fn prepare(&mut self, case: &Case) -> Result<()> {
        let _ = case;
        Ok(())
    }

    /// One iteration of `case`'s workload. Returns the count [`Case::expected`] names.
    fn run(&mut self, case: &Case) -> Result<usize>;
}

/// The PostgreSQL `application_name` of every benchmark connection.
pub const APPLICATION_NAME: &str = "quarry_bench";
