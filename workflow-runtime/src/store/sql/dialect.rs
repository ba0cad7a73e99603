//! The dialect of a database, and the statements of the SQL stores written once in a neutral
//! form and rendered in each dialect when a store first needs them.
//!
//! A statement's text is SQL both databases understand, with these marks:
//!
//! | mark | meaning | SQLite | PostgreSQL |
//! |---|---|---|---|
//! | `$N` | the `N`th parameter | `?N` | `$N` |
//! | `{executions}` (any table) | a table of the store | `executions` | `workflow_executions` |
//! | `{in $N}` | is in the list of texts `$N` | ` IN (SELECT value FROM json_each(?N))` | ` = ANY($N::TEXT[])` |
//! | `{list $N}` | the list `$N` itself (to test it for NULL) | `?N` | `$N::TEXT[]` |
//! | `{lock}` | lock the rows read until the transaction ends | nothing | ` FOR UPDATE` |
//! | `{skip_locked}` | lock them, skipping those another transaction holds | nothing | ` FOR UPDATE SKIP LOCKED` |
//!
//! SQLite needs no row locks: its writer holds the file's lock for the whole transaction.

/// What differs in the SQL text of one database.
pub(crate) trait Dialect: Send + Sync + 'static {
    /// What the tables' names start with (PostgreSQL's share a database with others).
    const TABLE_PREFIX: &'static str;
    /// How row locks are written after a `SELECT` (empty where the database has none).
    const LOCK: &'static str;
    /// How a `SELECT` locks its rows, skipping those locked already.
    const SKIP_LOCKED: &'static str;

    /// The parameter of number `index` (digits).
    fn parameter(index: &str) -> String;

    /// The condition (after an expression) that the expression is one of the texts of
    /// parameter `index`.
    fn in_list(index: &str) -> String;

    /// Parameter `index`, a list of texts, as a value.
    fn list(index: &str) -> String;

    /// The statements, rendered once.
    fn statements() -> &'static Statements;
}

/// `template` (see the [module docs](self)) in dialect `D`.
pub(crate) fn render<D: Dialect>(template: &str) -> String {
    let mut sql = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(at) = rest.find(['$', '{']) {
        sql.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix('$') {
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            sql.push_str(&D::parameter(&after[..digits]));
            rest = &after[digits..];
            continue;
        }
        let Some(end) = rest.find('}') else {
            break;
        };
        let mark = &rest[1..end];
        rest = &rest[end + 1..];
        let index = |word: &str| {
            mark.strip_prefix(word)
                .map(|index| index.trim_start_matches('$'))
        };
        if let Some(index) = index("in $") {
            sql.push_str(&D::in_list(index));
        } else if let Some(index) = index("list $") {
            sql.push_str(&D::list(index));
        } else if mark == "lock" {
            sql.push_str(D::LOCK);
        } else if mark == "skip_locked" {
            sql.push_str(D::SKIP_LOCKED);
        } else {
            sql.push_str(D::TABLE_PREFIX);
            sql.push_str(mark);
        }
    }
    sql.push_str(rest);
    sql
}

/// The columns of an execution, as [`read_record`](super::read::record) reads them.
pub(crate) const EXECUTION_COLUMNS: &str =
    "id, name, workflow, status, input, output, error, cause, started_at, stopped_at, fingerprint, failed_state, version";

/// The columns of a callback, as [`read_callback`](super::read::callback) reads them.
const CALLBACK_COLUMNS: &str = "token_hash, execution_id, workflow, state, event_id, status, output, error, cause, heartbeat_at, created_at";

/// The columns of a request, as [`read_request`](super::read::request) reads them.
const REQUEST_COLUMNS: &str =
    "id, execution_id, workflow, kind, error, cause, requested_at, status, outcome";

/// Defines [`Statements`], each field rendered from its template.
macro_rules! statements {
    ($($(#[$doc:meta])* $name:ident = $template:expr;)*) => {
        /// Every statement of the SQL stores, in one dialect.
        pub(crate) struct Statements {
            $($(#[$doc])* pub(crate) $name: String,)*
        }

        impl Statements {
            pub(crate) fn new<D: Dialect>() -> Self {
                Statements {
                    $($name: render::<D>(&$template),)*
                }
            }
        }
    };
}

statements! {
    /// The execution with id `$1`.
    execution = format!("SELECT {EXECUTION_COLUMNS} FROM {{executions}} WHERE id = $1");
    /// The execution of workflow `$1` named `$2`.
    execution_named =
        format!("SELECT {EXECUTION_COLUMNS} FROM {{executions}} WHERE workflow = $1 AND name = $2");
    /// Creates an execution unless one of the same workflow and name exists.
    create = "INSERT INTO {executions} (id, name, workflow, fingerprint, status, input, started_at, owner, lease_token, lease_until, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (workflow, name) DO NOTHING";
    /// An execution's status and lease, its row locked.
    lock = "SELECT status, owner, lease_token FROM {executions} WHERE id = $1{lock}";
    /// An execution's status and lease, its row locked, and the last event id of its history
    /// (`NULL`: none): one statement for the two reads of every append.
    lock_for_append = "SELECT e.status, e.owner, e.lease_token,
             (SELECT h.last_id FROM {history} h WHERE h.execution_key = e.key ORDER BY h.first_id DESC LIMIT 1),
             e.key
         FROM {executions} e WHERE e.id = $1{lock}";
    /// Ends an execution.
    end = "UPDATE {executions} SET status = $2, output = $3, error = $4, cause = $5, stopped_at = $6, failed_state = $7
         WHERE id = $1";
    /// Makes an ended execution running again, with no lease.
    reopen = "UPDATE {executions} SET status = $2, output = NULL, error = NULL, cause = NULL, failed_state = NULL, stopped_at = NULL, owner = NULL, lease_until = NULL
         WHERE id = $1";
    /// Gives up a lease until a time.
    park = "UPDATE {executions} SET owner = NULL, lease_until = $2 WHERE id = $1";
    /// Claims executions: see `Leases::claim`.
    claim = "UPDATE {executions} SET owner = $1, lease_token = lease_token + 1, lease_until = $2
         WHERE id IN (
             SELECT id FROM {executions}
             WHERE status = $3 AND workflow{in $6}
               AND ({list $11} IS NULL OR (workflow || '@' || version){in $11})
               AND NOT (id{in $7})
               AND ({list $8} IS NULL OR id{in $8})
               AND (lease_until IS NULL OR lease_until <= $4 OR owner{in $9}
                    OR ($10 AND owner IS NULL))
             ORDER BY started_at LIMIT $5{skip_locked})
         RETURNING id, workflow, lease_token";
    /// Renews leases: the ids of those still held.
    renew = "UPDATE {executions} SET lease_until = $2
         WHERE owner = $1 AND status = $3 AND id{in $4}
         RETURNING id";
    /// The owners of running executions of some workflows.
    owners = "SELECT DISTINCT owner FROM {executions}
         WHERE status = $1 AND owner IS NOT NULL AND workflow{in $2}";
    /// How many running executions each version of some workflows has.
    open_versions = "SELECT workflow, version, COUNT(*) FROM {executions}
         WHERE status = $1 AND workflow{in $2}
         GROUP BY workflow, version ORDER BY workflow, version";
    /// Deletes ended executions (with their histories) that stopped before a time.
    purge = "DELETE FROM {executions} WHERE id IN (
             SELECT id FROM {executions} WHERE status <> $1 AND stopped_at < $2 LIMIT $3
         )";

    /// The appends of a history holding events in `$2..=$3`.
    events_between = "SELECT events FROM {history}
         WHERE execution_key = (SELECT key FROM {executions} WHERE id = $1)
           AND last_id >= $2 AND first_id <= $3 ORDER BY first_id";
    /// The first `$3` appends of a history holding events after `$2`: at least `$3` of them.
    events_after = "SELECT events FROM {history}
         WHERE execution_key = (SELECT key FROM {executions} WHERE id = $1)
           AND last_id > $2 ORDER BY first_id LIMIT $3";
    /// One append: events `$2..=$3`, a JSON array, to the history of the execution `$1` (none
    /// if there is no such execution).
    insert_events = "INSERT INTO {history} (execution_key, first_id, last_id, events)
         SELECT key, $2, $3, $4 FROM {executions} WHERE id = $1";
    /// Appends events to the history of the execution of key `$1` (found by
    /// `lock_for_append`: not looked up by id a second time).
    insert_keyed_events = "INSERT INTO {history} (execution_key, first_id, last_id, events)
         VALUES ($1, $2, $3, $4)";

    /// Creates a pending callback.
    create_callback = "INSERT INTO {callbacks} (token_hash, execution_id, workflow, state, event_id, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)";
    /// The callback of a token, its row locked.
    callback_to_change = format!("SELECT {CALLBACK_COLUMNS} FROM {{callbacks}} WHERE token_hash = $1{{lock}}");
    /// The callback of a token.
    callback = format!("SELECT {CALLBACK_COLUMNS} FROM {{callbacks}} WHERE token_hash = $1");
    /// The callback of a task attempt.
    callback_of =
        format!("SELECT {CALLBACK_COLUMNS} FROM {{callbacks}} WHERE execution_id = $1 AND event_id = $2");
    /// Changes a pending callback.
    change_callback = "UPDATE {callbacks} SET status = $2, output = $3, error = $4, cause = $5, heartbeat_at = $6
         WHERE token_hash = $1 AND status = 'pending'";
    /// Deletes callbacks no longer pending created before a time.
    purge_callbacks = "DELETE FROM {callbacks} WHERE status <> 'pending' AND created_at < $1";

    /// Records a request: its id.
    request = "INSERT INTO {requests} (execution_id, workflow, kind, error, cause, requested_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending')
         RETURNING id";
    /// Takes pending requests of some workflows.
    take_requests = format!(
        "UPDATE {{requests}} SET status = 'taken' WHERE id IN (
             SELECT id FROM {{requests}}
             WHERE status = 'pending' AND workflow{{in $1}}
             ORDER BY id LIMIT $2{{skip_locked}}
         )
         RETURNING {REQUEST_COLUMNS}"
    );
    /// Records a request's outcome.
    finish_request = "UPDATE {requests} SET status = $2, outcome = $3 WHERE id = $1";
    /// A request.
    request_of = format!("SELECT {REQUEST_COLUMNS} FROM {{requests}} WHERE id = $1");

    /// Records a definition, or the time it was registered again.
    save_definition = "INSERT INTO {definitions} (workflow, fingerprint, definition, registered_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (workflow, fingerprint) DO UPDATE SET registered_at = excluded.registered_at";
    /// The definition of each workflow registered last.
    latest_definitions = "SELECT workflow, fingerprint, definition, registered_at FROM {definitions} AS d
         WHERE registered_at = (SELECT MAX(registered_at) FROM {definitions} WHERE workflow = d.workflow)
         ORDER BY workflow";
    /// A definition.
    definition = "SELECT workflow, fingerprint, definition, registered_at FROM {definitions}
         WHERE workflow = $1 AND fingerprint = $2";
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dollars;

    impl Dialect for Dollars {
        const TABLE_PREFIX: &'static str = "w_";
        const LOCK: &'static str = " LOCK";
        const SKIP_LOCKED: &'static str = " SKIP";

        fn parameter(index: &str) -> String {
            format!("${index}")
        }

        fn in_list(index: &str) -> String {
            format!(" = ANY(${index})")
        }

        fn list(index: &str) -> String {
            format!("${index}::L")
        }

        fn statements() -> &'static Statements {
            unreachable!("not needed")
        }
    }

    struct Questions;

    impl Dialect for Questions {
        const TABLE_PREFIX: &'static str = "";
        const LOCK: &'static str = "";
        const SKIP_LOCKED: &'static str = "";

        fn parameter(index: &str) -> String {
            format!("?{index}")
        }

        fn in_list(index: &str) -> String {
            format!(" IN (?{index})")
        }

        fn list(index: &str) -> String {
            format!("?{index}")
        }

        fn statements() -> &'static Statements {
            unreachable!("not needed")
        }
    }

    #[test]
    fn marks_are_rendered_in_each_dialect() {
        let template = "SELECT a FROM {t} WHERE b = $12 AND c{in $3} AND ({list $4} IS NULL){lock}{skip_locked}";
        assert_eq!(
            render::<Dollars>(template),
            "SELECT a FROM w_t WHERE b = $12 AND c = ANY($3) AND ($4::L IS NULL) LOCK SKIP"
        );
        assert_eq!(
            render::<Questions>(template),
            "SELECT a FROM t WHERE b = ?12 AND c IN (?3) AND (?4 IS NULL)"
        );
    }
}
