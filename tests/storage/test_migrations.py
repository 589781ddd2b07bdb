"""Versioned schema: an empty database is upgraded, reopening changes nothing, a newer one is refused."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, insert, select, text

from ser_tf.errors import StorageError
from ser_tf.storage import Store, migrations, schema
from ser_tf.storage.engine import make_engine
from ser_tf.storage.urls import normalize_url
from tests.storage.support import add_full_recording, add_model

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"schema_version", "models", "recordings", "windows", "audio", "rules", "alerts"}


@pytest.fixture
def engine(store_url):
    engine = make_engine(normalize_url(store_url))
    yield engine
    engine.dispose()


def _versions(engine):
    with engine.connect() as connection:
        return connection.execute(select(schema.schema_version.c.version)
                                  .order_by(schema.schema_version.c.version)).scalars().all()


def test_an_empty_database_is_upgraded_to_the_latest_version(store_url, engine):
    assert not set(inspect(engine).get_table_names())
    Store(store_url).close()
    assert TABLES <= set(inspect(engine).get_table_names())
    assert _versions(engine) == [step.version for step in migrations.STEPS]
    with engine.connect() as connection:
        assert migrations.database_version(connection) == migrations.LATEST


def test_opening_twice_changes_nothing_and_keeps_the_data(store_url, engine):
    with Store(store_url) as store:
        recording_id = add_full_recording(store, add_model(store))
    versions = _versions(engine)
    with Store(store_url) as again:
        assert again.get_recording(recording_id)["name"] == "clip.wav"
    assert _versions(engine) == versions


def test_a_database_newer_than_the_code_is_refused_naming_both_versions(store_url, engine):
    Store(store_url).close()
    newer = migrations.LATEST + 1
    with engine.begin() as connection:
        connection.execute(insert(schema.schema_version).values(version=newer, applied_at=datetime(2030, 1, 1)))
    with pytest.raises(StorageError, match=f"schema version {newer}.*version {migrations.LATEST}"):
        Store(store_url)


def test_a_new_step_upgrades_an_existing_database(store_url, engine):
    Store(store_url).close()

    def add_notes(connection):
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))

    steps = migrations.STEPS + [migrations.Step(migrations.LATEST + 1, "notes", add_notes)]
    assert migrations.migrate(engine, steps=steps) == migrations.LATEST + 1
    assert "notes" in inspect(engine).get_table_names()
    assert migrations.migrate(engine, steps=steps) == migrations.LATEST + 1  # idempotent


def test_a_failing_step_is_rolled_back_whole(store_url, engine):
    Store(store_url).close()

    def half_then_fail(connection):
        connection.execute(text("CREATE TABLE half_done (id INTEGER PRIMARY KEY)"))
        raise RuntimeError("step broke after its first statement")

    steps = migrations.STEPS + [migrations.Step(migrations.LATEST + 1, "broken", half_then_fail)]
    with pytest.raises(StorageError, match=f"schema version {migrations.LATEST + 1} .*rolled back"):
        migrations.migrate(engine, steps=steps)
    # DDL is transactional on both databases (SQLite: the engine issues BEGIN itself).
    assert "half_done" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(select(func.max(schema.schema_version.c.version))).scalar_one() == migrations.LATEST


def test_processes_opening_a_new_database_at_once_migrate_it_once(store_url, engine):
    opener = "import sys; from ser_tf.storage import Store; Store(sys.argv[1]).close()"
    children = [subprocess.Popen([sys.executable, "-c", opener, store_url], cwd=ROOT, stderr=subprocess.PIPE,
                                 text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}) for _ in range(4)]
    for child in children:
        assert child.wait(timeout=60) == 0, child.stderr.read()
    assert _versions(engine) == [step.version for step in migrations.STEPS]
