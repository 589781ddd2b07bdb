"""A simple versioned schema: an ordered list of steps, each applied in its own transaction.

The database records every applied step in ``schema_version``; its version is the largest there.
Opening a database runs the steps it lacks, oldest first. A database written by a newer ser_tf
(a version beyond ``LATEST``) is refused rather than guessed at.

To change the schema: edit ``schema.py``, then append a step here that brings a version-N
database to the new shape with explicit DDL (``ALTER TABLE``, a new ``Table.create``). Never edit
an existing step: databases in the field already ran it. (Step 1 creates the tables from
``schema.py``; once a later step alters one of them, freeze step 1's definitions here first.)
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Callable, Iterator, List, NamedTuple

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from ser_tf.errors import StorageError
from ser_tf.storage import schema
from ser_tf.storage.engine import BEGIN_IMMEDIATE


class Step(NamedTuple):
    """One migration: ``apply(connection)`` brings a ``version - 1`` database to ``version``."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_version_1(connection: Connection) -> None:
    schema.metadata.create_all(connection, tables=list(schema.VERSION_1_TABLES))


STEPS: List[Step] = [
    Step(1, "models, recordings, windows, audio, rules and alerts", _create_version_1),
]
LATEST = STEPS[-1].version
# An arbitrary constant key for PostgreSQL's advisory lock: two apps opening the same database at
# once take turns to migrate instead of both creating the same tables.
_LOCK_KEY = 0x5E7F11


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """A transaction that no other migrating process runs alongside (on either database)."""
    with engine.connect() as connection:
        connection.execution_options(**{BEGIN_IMMEDIATE: True})  # SQLite: lock the file at BEGIN
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            yield connection


def database_version(connection: Connection) -> int:
    """The schema version of the database behind ``connection`` (0: never migrated)."""
    return connection.execute(select(func.coalesce(func.max(schema.schema_version.c.version), 0))).scalar_one()


def migrate(engine: Engine, *, steps: List[Step] = STEPS) -> int:
    """Bring the database to the last of ``steps``; return its version.

    Raises:
        StorageError: the database is newer than this code (a version beyond ``steps``), or a
            step fails (that step is rolled back; earlier steps stay applied).
    """
    latest = steps[-1].version
    with _exclusive(engine) as connection:
        schema.schema_version.create(connection, checkfirst=True)
    for step in steps:
        with _exclusive(engine) as connection:
            # Read inside the step's transaction: another process may have migrated meanwhile.
            current = database_version(connection)
            if current > latest:
                raise StorageError(
                    f"database {engine.url.render_as_string(hide_password=True)} has schema version "
                    f"{current}, newer than this ser_tf knows (version {latest}); upgrade ser_tf, "
                    f"or point the app at another database")
            if current >= step.version:
                continue
            try:
                step.apply(connection)
            except Exception as error:
                raise StorageError(f"migration to schema version {step.version} ({step.description}) "
                                   f"failed and was rolled back: {error}") from error
            connection.execute(insert(schema.schema_version).values(
                version=step.version, applied_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    return latest

