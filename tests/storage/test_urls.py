"""Database URLs: the default SQLite file, plain postgresql:// mapped to psycopg 3, clear refusals."""

from pathlib import Path

import pytest

from ser_tf.errors import StorageError
from ser_tf.storage import Store, default_url
from ser_tf.storage.urls import normalize_url


def test_default_url_is_a_sqlite_file_in_the_folder(tmp_path):
    assert default_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/ser_tf_app.sqlite3"


def test_the_store_creates_the_default_folder(tmp_path):
    folder = tmp_path / "not" / "yet"
    with Store(default_url(folder)) as store:
        assert store.dialect == "sqlite"
    assert (Path(folder) / "ser_tf_app.sqlite3").is_file()


@pytest.mark.parametrize("given, expected", [
    ("postgresql://me@db.example:5433/emotions", "postgresql+psycopg://me@db.example:5433/emotions"),
    ("postgres://me@db/emotions", "postgresql+psycopg://me@db/emotions"),
    ("postgresql+psycopg://me@db/emotions", "postgresql+psycopg://me@db/emotions"),
    ("sqlite:///rel/file.db", "sqlite:///rel/file.db"),
    ("sqlite+pysqlite:///rel/file.db", "sqlite:///rel/file.db"),
])
def test_urls_are_normalised_to_the_pinned_drivers(given, expected):
    assert normalize_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize("given, message", [
    ("mysql://me@db/emotions", "uses 'mysql'; ser_tf stores to sqlite or postgresql only"),
    ("postgresql+psycopg2://me:secret@db/emotions", "asks for driver 'psycopg2'"),
    ("not a url", "'not a url' cannot be parsed"),
])
def test_unsupported_urls_are_refused_naming_them(given, message):
    with pytest.raises(StorageError, match=message) as caught:
        Store(given)
    assert "secret" not in str(caught.value)


def test_an_unreachable_server_is_a_storage_error():
    with pytest.raises(StorageError, match="cannot open database postgresql"):
        Store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
