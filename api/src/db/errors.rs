//! Which database failures are the database's state rather than a bug: the connection could
//! not be had or broke (the request may succeed shortly), or the statement lost a race with
//! another transaction (running the whole transaction again is safe).

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr, sqlx};

/// The database could not be reached or the connection broke: no pooled connection in time,
/// the pool closed, an I/O or TLS failure, or the server refusing or ending connections
/// (SQLSTATE class 08, 57P01–57P03 shutdown / starting up, 53300 too many connections).
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e)) => {
            !matches!(e.deref(), sqlx::Error::Configuration(_))
        }
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

/// The statement lost a race it may win when the whole transaction runs again: a
/// serialization failure or deadlock on PostgreSQL (40001, 40P01), a busy or locked database
/// on SQLite (after its busy timeout).
pub fn is_contention(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let Some(db) = e.as_database_error() else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    if db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        return matches!(code.deref(), "40001" | "40P01");
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // Extended result codes: the primary code is the low byte (5 BUSY, 6 LOCKED).
        return code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
    }
    false
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => {
            db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
                && db.code().is_some_and(|code| {
                    code.starts_with("08")
                        || matches!(code.deref(), "57P01" | "57P02" | "57P03" | "53300")
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, sqlx};

    use super::*;

    fn exec(err: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn connection_failures_are_unavailable_and_nothing_else_is() {
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::ConnectionClosed
        )));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_unavailable(&exec(sqlx::Error::Io(refused))));
        assert!(is_unavailable(&exec(sqlx::Error::PoolTimedOut)));
        assert!(is_unavailable(&DbErr::Conn(RuntimeErr::SqlxError(
            Arc::new(sqlx::Error::PoolClosed)
        ))));
        assert!(!is_unavailable(&exec(sqlx::Error::RowNotFound)));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
        assert!(!is_unavailable(&DbErr::Custom("bug".into())));
        assert!(!is_contention(&exec(sqlx::Error::PoolTimedOut)));
    }
}
