"""Fixtures for the app tests: live servers on loopback over SQLite (and PostgreSQL when it starts).

One server per configuration per test session: the model is the suite's one tiny trained run.
"""

import httpx
import pytest

from tests.app import support
from tests.storage import postgres

postgres_server = postgres.postgres_server  # assigned: pytest finds fixtures by name

TOKEN = "test-token-0123456789"


def _serve(tmp_path_factory, db_url, **settings):
    service = support.make_service(tmp_path_factory.mktemp("models"), db_url, **settings)
    server = support.LiveServer(service)
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app on SQLite, no token, a 2 MB upload limit and a 60 s duration limit."""
    folder = tmp_path_factory.mktemp("db")
    live = _serve(tmp_path_factory, f"sqlite:///{folder}/app.sqlite3", max_upload_bytes=2 * 1024 * 1024,
                  max_duration_s=60.0)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def token_server(tmp_path_factory):
    """The app on SQLite with an API token."""
    folder = tmp_path_factory.mktemp("db")
    live = _serve(tmp_path_factory, f"sqlite:///{folder}/app.sqlite3", token=TOKEN)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def postgres_app(tmp_path_factory, postgres_server):
    """The app on a real PostgreSQL database."""
    live = _serve(tmp_path_factory, postgres_server.create_database("ser_tf_app"))
    yield live
    live.stop()


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http
