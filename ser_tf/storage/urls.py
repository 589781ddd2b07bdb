"""Database URLs: the default SQLite file, and the plain ``postgresql://`` form users type."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ser_tf.errors import StorageError

DEFAULT_FILE_NAME = "ser_tf_app.sqlite3"
# The drivers ser_tf pins: the standard library's sqlite3 (SQLAlchemy's "pysqlite", its default),
# and psycopg 3 for PostgreSQL (SQLAlchemy's default there is psycopg2, which is not installed).
DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
DRIVER_NAMES = {"sqlite": "pysqlite", "postgresql": "psycopg"}
SCHEME_ALIASES = {"postgres": "postgresql"}


def default_url(folder) -> str:
    """``sqlite:///<folder>/ser_tf_app.sqlite3``: the app's database when no URL is given.

    Args:
        folder: the folder that holds the database file (a path; created on first use by ``Store``).
    """
    return f"sqlite:///{Path(folder).expanduser().resolve() / DEFAULT_FILE_NAME}"


def app_default_url() -> str:
    """The app's database when no URL is given: ``ser_tf_app.sqlite3`` in the models folder
    (``$SER_TF_MODELS``, else ``models/``; ``ser_tf.runs.models_dir``). ``python -m ser_tf.app``
    and ``python -m ser_tf.report`` both default to it."""
    from ser_tf.runs import models_dir

    return default_url(models_dir())


def normalize_url(url: str) -> URL:
    """Parse ``url`` and pin its driver, so ``postgresql://user@host:port/db`` uses psycopg 3.

    Accepted: ``sqlite:///path`` (``sqlite://`` alone is an in-memory database),
    ``postgresql://...`` or ``postgres://...``, and the explicit ``postgresql+psycopg://...``.

    Raises:
        StorageError: the URL cannot be parsed, or names another database or driver.
    """
    try:
        parsed = make_url(str(url))
    except ArgumentError as error:
        raise StorageError(f"database URL {url!r} cannot be parsed ({error}); "
                           f"expected e.g. sqlite:///path/to/file.sqlite3 or "
                           f"postgresql://user@host:5432/dbname") from None
    # Split "backend+driver" by hand: asking SQLAlchemy would import the dialect of any scheme.
    backend, _, driver = parsed.drivername.partition("+")
    backend = SCHEME_ALIASES.get(backend, backend)
    expected = DRIVERS.get(backend)
    if expected is None:
        raise StorageError(f"database URL {parsed.render_as_string(hide_password=True)!r} uses "
                           f"{parsed.drivername!r}; ser_tf stores to sqlite or postgresql only")
    if driver and driver != DRIVER_NAMES[backend]:
        raise StorageError(f"database URL {parsed.render_as_string(hide_password=True)!r} asks for "
                           f"driver {driver!r}; ser_tf uses {expected!r} (or write plain {backend}://)")
    return parsed.set(drivername=expected)
