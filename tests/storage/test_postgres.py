"""The test PostgreSQL helper: it picks the newest install and explains a missing one."""

import psycopg
import pytest

from tests.storage import postgres


def test_the_newest_installed_version_is_used(monkeypatch, tmp_path):
    for version in ("9.6", "15", "13"):
        (tmp_path / version / "bin").mkdir(parents=True)
        for program in ("initdb", "pg_ctl"):
            (tmp_path / version / "bin" / program).touch()
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [str(path) for path in tmp_path.glob("*/bin")])
    assert postgres.find_bin_dir() == tmp_path / "15" / "bin"


def test_a_missing_install_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    with pytest.raises(postgres.PostgresUnavailable, match="apt-get install postgresql"):
        postgres.find_bin_dir()


def test_an_emptied_database_has_no_tables_left(postgres_server):
    url = postgres_server.empty_database("emptied_twice")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE leftover (id int)")
    url = postgres_server.empty_database("emptied_twice")
    with psycopg.connect(url, autocommit=True) as connection:
        assert connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
