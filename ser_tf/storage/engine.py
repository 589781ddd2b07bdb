"""The SQLAlchemy engine for a database URL, with SQLite made as transactional as PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine

# An execution option: a SQLite transaction begun on a connection carrying it takes the write
# lock at once (BEGIN IMMEDIATE), so read-then-write work such as a migration step is serialised.
BEGIN_IMMEDIATE = "ser_tf_begin_immediate"


def make_engine(url: URL) -> Engine:
    """An engine for ``url`` (already normalised by ``urls.normalize_url``).

    For a SQLite file, the parent folder is created, and every connection gets foreign keys on,
    WAL journaling (readers do not block the writer, and a killed writer loses only its open
    transaction) and explicit ``BEGIN``s, so DDL runs inside transactions too.
    """
    if url.get_backend_name() != "sqlite":
        # pre_ping: a PostgreSQL server restarted under a long-running app must not break it.
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread: the web server hands pooled connections between threads; the pool
    # itself keeps one connection to one thread at a time. timeout (s): wait for a writer's lock.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection, connection_record) -> None:
    # sqlite3's own transaction handling skips BEGIN before DDL (CREATE TABLE would autocommit,
    # so a failed migration step could leave half a schema); turn it off and BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _begin_sqlite_transaction(connection) -> None:
    immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
