//! The PostgreSQL driver of the SQL store (feature `postgres`): in one database that several
//! worker processes can share, the tables of the SQLite store prefixed `workflow_`
//! (`schema.rs`), of the same shape. What each write does and what each read reads is the
//! shared SQL code's (`store::sql`), run on these connections in PostgreSQL's dialect
//! (`sql.rs`); what a PostgreSQL error means to the store is `error.rs`'s.
//!
//! Writes go through the store's group-commit queue, one transaction per batch, on one
//! connection (`commit.rs`): the batch's appends are one statement (over arrays) and its
//! other writes applied each in a savepoint; a batch without appends, or one whose append
//! fails, is applied write by write, each in a savepoint, so that a bad write fails alone.
//! Reads use other connections. The connections come from pools (`connections.rs`) that drop
//! a connection once it fails and open new ones, so a restarted server is reconnected to.
//! Queries run on tokio's blocking pool, driving the query there, so a paused tokio clock
//! (virtual time in tests) sees the work in flight and does not jump ahead of a pending query.
//!
//! A batch whose connection breaks is never half applied: before its COMMIT was sent nothing
//! of it is durable, and it is applied again on a new connection; if the connection broke
//! while COMMIT was under way, the transaction's id (taken at its start) tells on a new
//! connection whether it committed (`txid_status`), so its writes are neither lost nor
//! applied twice.

mod commit;
mod connections;
mod error;
mod schema;
mod sql;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::runtime::Handle;
use tokio_postgres::{Config, NoTls};

/// Connection settings of a PostgreSQL store, for
/// [`PostgresStore::builder_with_config`](SqlStore::builder_with_config): tokio-postgres's
/// [`Config`], so an application need not depend on it to name them.
pub use tokio_postgres::Config as PostgresConfig;

use self::commit::PostgresCommitter;
use self::connections::{discard, Backoff, Connections};
use self::error::database;
use self::sql::PostgresSql;
use super::sql::{Driver, SqlStore};
use super::{StoreError, StoreFuture};

/// How long a call waits for the database by default.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// How many connections a store opens at most by default.
const DEFAULT_CONNECTIONS: usize = 8;

/// Executions and histories in a PostgreSQL database, shared by every worker that connects:
/// the [`SqlStore`] over [`Postgres`].
///
/// ```no_run
/// # async fn open() -> Result<(), workflow::store::StoreError> {
/// let store = workflow::store::PostgresStore::connect("postgres://app@db.internal/workflows").await?;
/// # Ok(()) }
/// ```
///
/// # When the database is away
///
/// The store reconnects by itself: a connection that fails is dropped, never used again, and
/// new ones are opened as calls need them, trying again with backoff (from 20 ms, doubling,
/// up to a second between tries) while the server is down or restarting. A call waits for the
/// database up to [`connection_wait`](PostgresStoreBuilder::connection_wait) (10 s by
/// default): a restart shorter than that only delays the calls in flight. Past it the call
/// fails with [`StoreError::Unavailable`] ([`is_transient`](StoreError::is_transient)), and
/// the same call may be made again; once the database has been away that long, later calls
/// fail after one try until it answers again, rather than each waiting in turn. The runtime
/// retries its own writes meanwhile (for its
/// [`store_patience`](crate::RuntimeBuilder::store_patience)), and its executions pause
/// rather than fail.
///
/// Writes committed together are never half applied, lost or applied twice by a broken
/// connection: a batch interrupted before its commit is applied again on a new connection,
/// and one interrupted during its commit is looked up by its transaction id once the
/// database answers. Unavailable are: a closed connection, I/O errors, the server shutting
/// down or starting (SQLSTATE `57P01`, `57P02`, `57P03`), connection exceptions (class `08`)
/// and insufficient resources (class `53`, e.g. a full disk); other errors are
/// [`StoreError::Database`] as before.
///
/// A query already sent on a connection that silently stops answering (a network partition
/// rather than a restart) waits for the operating system to notice; the URL's
/// `keepalives_idle` or `tcp_user_timeout` parameters shorten that.
pub type PostgresStore = SqlStore<Postgres>;

/// PostgreSQL under a [`SqlStore`]: where it connects, and its pools of connections (one
/// commits the store's writes, the others serve reads). A [`PostgresStore`] is opened with
/// [`PostgresStore::connect`] or [`PostgresStore::builder`].
pub struct Postgres {
    /// Where it connects, for `Debug` (never the password).
    target: String,
    connections: Connections,
}

/// How to open a [`PostgresStore`]: the URL, and optionally a schema, how long calls wait for
/// an unavailable database, and how many connections to open.
///
/// ```no_run
/// # async fn open() -> Result<(), workflow::store::StoreError> {
/// use std::time::Duration;
/// let store = workflow::store::PostgresStore::builder("postgres://app@db.internal/workflows")
///     .connection_wait(Duration::from_secs(30)) // ride out a failover of up to 30 s
///     .max_connections(16)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct PostgresStoreBuilder {
    settings: Settings,
    schema: Option<String>,
    wait: Duration,
    connections: usize,
}

/// Where the database is: a URL, or connection settings the application made.
#[derive(Clone)]
enum Settings {
    Url(String),
    Config(Box<Config>),
}

impl Settings {
    /// The settings, and how messages name the database (without a password).
    fn parse(&self) -> Result<(Config, String), StoreError> {
        let target = self.target();
        let config = match self {
            Settings::Url(url) => url
                .parse()
                .map_err(|error| StoreError::database(format!("`{target}`: {error}"), error))?,
            Settings::Config(config) => (**config).clone(),
        };
        Ok((config, target))
    }

    /// How messages name the database: without a password.
    fn target(&self) -> String {
        match self {
            Settings::Url(url) => redacted(url),
            Settings::Config(config) => described(config),
        }
    }
}

impl std::fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("target", &self.settings.target())
            .field("schema", &self.schema)
            .field("wait", &self.wait)
            .field("connections", &self.connections)
            .finish()
    }
}

impl SqlStore<Postgres> {
    /// Connects to the database at `url` (`postgres://user@host:port/database`) and brings its
    /// schema up to date, with the default options of [`builder`](Self::builder). Must be
    /// called within a tokio runtime.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// Like [`connect`](Self::connect), keeping the tables in the PostgreSQL schema `schema`
    /// (created if needed): several independent stores in one database, e.g. one per test.
    /// `schema` is lowercase letters, digits and `_`, starting with a letter.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Self::builder(url).schema(schema).connect().await
    }

    /// A store at `url` with options: calls wait up to 10 s for an unavailable database, and
    /// at most 8 connections are open (one commits, the others read).
    pub fn builder(url: &str) -> PostgresStoreBuilder {
        Self::builder_with_settings(Settings::Url(url.to_owned()))
    }

    /// A store with the application's own connection settings (host, user, password from a
    /// secret store, options...), as a [`PostgresConfig`]; the options of
    /// [`builder`](Self::builder) apply.
    ///
    /// The store opens its own connections from them rather than borrow from a pool of the
    /// application's: one connection commits every write on a thread of its own and is
    /// replaced, with the reads' connections, when the database restarts or fails over, which
    /// a shared pool would not promise. Connections are made without TLS.
    ///
    /// ```no_run
    /// # async fn open(password: &str) -> Result<(), workflow::store::StoreError> {
    /// use workflow::store::{PostgresConfig, PostgresStore};
    /// let mut settings = PostgresConfig::new();
    /// settings
    ///     .host("db.internal")
    ///     .user("app")
    ///     .password(password)
    ///     .dbname("workflows");
    /// let store = PostgresStore::builder_with_config(settings).connect().await?;
    /// # Ok(()) }
    /// ```
    pub fn builder_with_config(config: PostgresConfig) -> PostgresStoreBuilder {
        Self::builder_with_settings(Settings::Config(Box::new(config)))
    }

    fn builder_with_settings(settings: Settings) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            settings,
            schema: None,
            wait: DEFAULT_WAIT,
            connections: DEFAULT_CONNECTIONS,
        }
    }
}

impl PostgresStoreBuilder {
    /// Keeps the tables in the PostgreSQL schema `schema` (created if needed): several
    /// independent stores in one database. Lowercase letters, digits and `_`, starting with a
    /// letter.
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = Some(schema.to_owned());
        self
    }

    /// How long a call waits for the database when it cannot be reached (a restart, a
    /// failover) before failing with [`StoreError::Unavailable`]; 10 s by default. Zero fails
    /// after one try. Connecting waits as long for the database to answer.
    pub fn connection_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Opens at most `connections` connections (8 by default, 2 at least): one commits the
    /// writes, the others serve reads, opened as reads need them.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.connections = connections;
        self
    }

    /// Connects (waiting for the database as a call does) and brings the schema up to date.
    /// Must be called within a tokio runtime.
    pub async fn connect(self) -> Result<PostgresStore, StoreError> {
        let (mut config, target) = self.settings.parse()?;
        if let Some(schema) = &self.schema {
            let valid = schema.len() <= 63
                && schema.starts_with(|c: char| c.is_ascii_lowercase())
                && schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(StoreError::failed(format!(
                    "`{schema}` cannot name a schema: use lowercase letters, digits and `_`, starting with a letter"
                )));
            }
            // Every connection starts with it, new ones after a reconnection too.
            let options = match config.get_options() {
                Some(options) => format!("{options} -c search_path={schema}"),
                None => format!("-c search_path={schema}"),
            };
            config.options(&options);
        }
        if self.connections < 2 {
            return Err(StoreError::failed(format!(
                "a PostgreSQL store needs 2 connections at least (one commits, the others read), not {}",
                self.connections
            )));
        }
        let handle = Handle::try_current().map_err(|error| {
            StoreError::database(
                "a PostgreSQL store must be opened within a tokio runtime",
                error,
            )
        })?;
        let connections = Connections::new(
            pool(&config, 1)?,
            pool(&config, self.connections - 1)?,
            self.wait,
            target.clone(),
            handle,
        );
        // The schema is created by the migration, under its lock: processes starting together
        // would otherwise race to create it.
        let migrating = connections.clone();
        let schema = self.schema;
        tokio::task::spawn_blocking(move || {
            let mut writer = migrating.writer(migrating.deadline())?;
            let migrated = migrating
                .handle()
                .block_on(schema::migrate(&mut writer, schema.as_deref()));
            if let Err(StoreError::Unavailable { .. }) = migrated {
                discard(writer);
            }
            migrated
        })
        .await
        .map_err(database)??;
        let committer = PostgresCommitter {
            connections: connections.clone(),
        };
        Ok(SqlStore::new(
            Postgres {
                target,
                connections,
            },
            committer,
            Postgres::STORE,
        ))
    }
}

/// A pool of at most `size` connections to the database `config` names. It checks that an
/// idle connection is still open before handing it out, and opens a new one otherwise.
fn pool(config: &Config, size: usize) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|error| StoreError::database(format!("no pool of connections: {error}"), error))
}

/// `url` without its password.
/// How messages name the database of `config`: `user@host:port/database`, no password.
fn described(config: &Config) -> String {
    let user = config.get_user().unwrap_or_default();
    let host = config
        .get_hosts()
        .first()
        .map_or_else(String::new, |host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        });
    let port = config
        .get_ports()
        .first()
        .map_or_else(String::new, |port| format!(":{port}"));
    let database = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}@{host}{port}/{database}")
}

fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl Driver for Postgres {
    const STORE: &'static str = "PostgresStore";

    type Reader<'c> = PostgresSql<'c, Object>;

    /// Runs `read` on a reading connection, driven on the blocking pool; again on a new
    /// connection if the one it had broke, until the wait for the database runs out.
    fn read<T, R>(&self, read: R) -> StoreFuture<T>
    where
        T: Send + 'static,
        R: for<'c> AsyncFn(&PostgresSql<'c, Object>) -> Result<T, StoreError> + Send + 'static,
    {
        let connections = self.connections.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || read_until_served(&connections, read))
                .await
                .map_err(database)?
        })
    }

    fn location(&self) -> (&'static str, &dyn std::fmt::Debug) {
        ("target", &self.target)
    }
}

/// Runs `read` until it is served: again on a new connection (the one it had dropped) while
/// the database is unavailable, until the wait runs out.
fn read_until_served<T>(
    connections: &Connections,
    read: impl AsyncFn(&PostgresSql<'_, Object>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let deadline = connections.deadline();
    let mut backoff = Backoff::until(deadline);
    // A connection from the pool may have broken while idle (a server restarted since): that
    // alone says nothing of the database now, so the first such failure is tried again at
    // once on a new connection, whatever the wait.
    let mut fresh_try = true;
    loop {
        let reader = connections.reader(deadline)?;
        let outcome = connections.handle().block_on(read(&PostgresSql(&reader)));
        let Err(StoreError::Unavailable { reason }) = outcome else {
            connections.served();
            return outcome;
        };
        discard(reader);
        if std::mem::take(&mut fresh_try) {
            continue;
        }
        connections.failed();
        if !backoff.pause() {
            return Err(connections.gave_up(reason));
        }
    }
}
