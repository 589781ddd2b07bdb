"""Every Store test runs on SQLite (always) and on a real PostgreSQL server (when one starts)."""

import pytest

from ser_tf.storage import Store, default_url
from tests.storage import postgres

# The PostgreSQL fixtures, made visible to the tests here (assigned, so pyflakes sees them used).
postgres_server = postgres.postgres_server
fresh_postgres_url = postgres.fresh_postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The URL of a new, empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return default_url(tmp_path)
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def store(store_url):
    """A migrated, empty ``Store``."""
    with Store(store_url) as opened:
        yield opened
