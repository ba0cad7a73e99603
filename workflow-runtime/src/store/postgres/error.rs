//! What a PostgreSQL failure means to the store: whether the connection is lost, the database
//! cannot serve for now, or the query itself is wrong; and the store errors that say so.

use crate::store::StoreError;

/// An error's message followed by those of its sources (a database client's error alone
/// often says only "db error").
pub(super) fn describe(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A store error saying what failed, with its causes, and keeping `error` as its source:
/// [`StoreError::Unavailable`] if the database is away or out of resources (the same call may
/// succeed later), otherwise [`StoreError::Database`].
pub(super) fn database(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    let message = describe(&error);
    let client = (&error as &dyn std::error::Error).downcast_ref::<tokio_postgres::Error>();
    match client.map(failure) {
        Some(Failure::Broken | Failure::Transient) => StoreError::Unavailable { reason: message },
        _ => StoreError::database(message, error),
    }
}

/// How a failed query or connection attempt bears on the connection and the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// The connection is lost (closed, an I/O error, the server shutting it down): drop it;
    /// the database may be back soon.
    Broken,
    /// The database cannot serve this now (out of connections, memory or disk) but the
    /// connection is sound.
    Transient,
    /// An error of the query itself: the same call would fail again.
    Genuine,
}

/// Classifies an error of the PostgreSQL client.
pub(super) fn failure(error: &tokio_postgres::Error) -> Failure {
    if error.is_closed() {
        return Failure::Broken;
    }
    if let Some(code) = error.code() {
        let code = code.code();
        return match code {
            // admin_shutdown, crash_shutdown, cannot_connect_now: the server is going away
            // or not yet back; it ends the session.
            "57P01" | "57P02" | "57P03" => Failure::Broken,
            // Class 08, connection exceptions (08006 connection failure, 08004 a connection
            // rejected, by a proxy in front of the server for instance).
            _ if code.starts_with("08") => Failure::Broken,
            // Class 53, insufficient resources: disk full, out of memory, too many connections.
            _ if code.starts_with("53") => Failure::Transient,
            _ => Failure::Genuine,
        };
    }
    // The client's own kinds are private; their messages are stable. I/O while talking or
    // connecting, and a connect timeout set in the URL.
    let message = error.to_string();
    let io = std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>());
    match message.as_str() {
        "error communicating with the server" | "error connecting to server" if io => {
            Failure::Broken
        }
        "timeout waiting for server" => Failure::Broken,
        _ => Failure::Genuine,
    }
}
