"""A throw-away PostgreSQL server for tests: Debian's binaries, a temporary data folder, a free port.

Use from any test folder's ``conftest.py``::

    from tests.storage import postgres

    postgres_server = postgres.postgres_server        # assigned: pytest finds fixtures by name,
    fresh_postgres_url = postgres.fresh_postgres_url  # and pyflakes sees the import used

``postgres_server`` (session scope) starts one server and yields it (``PostgresServer``);
``fresh_postgres_url`` (function scope) yields the URL of an empty database on it (one database,
emptied before each test: far faster than creating one per test). Both skip
the test, with the reason, when PostgreSQL is not installed or does not start.

As root (CI containers), initdb refuses to run, so the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional

import pytest

from tests.real_components import unavailable

INSTALL_HINT = "apt-get install postgresql; .ci/run installs it"
# Durability is pointless for a test server and costs seconds: no fsync, no full-page writes.
SERVER_OPTIONS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c listen_addresses=127.0.0.1 -c max_connections=50")
START_TIMEOUT_S = 30


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed here, or the server would not start (the message says why)."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and pg_ctl."""
    candidates = [Path(folder) for folder in glob.glob("/usr/lib/postgresql/*/bin")
                  if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file()]
    if not candidates:
        raise PostgresUnavailable(f"PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb): {INSTALL_HINT}")
    return max(candidates, key=lambda folder: _version_key(folder.parent.name))


def _version_key(name: str):
    return tuple(int(part) if part.isdigit() else 0 for part in name.split("."))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server on 127.0.0.1 with trust authentication for user ``postgres``.

    Attributes:
        port: its TCP port. folder: the temporary folder with its data, socket and log.
    """

    def __init__(self):
        self.bin_dir = find_bin_dir()
        self._as_user: List[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(f"running as root, and there is no 'postgres' user to run "
                                          f"the server as: {INSTALL_HINT}") from None
            self._as_user = ["runuser", "-u", "postgres", "--"]
        # Directly under /tmp (not pytest's 0700 folder) so the postgres user can reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="ser_tf_postgres_"))
        if self._as_user:
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.port = _free_port()
        self._databases = itertools.count(1)
        self._emptied = set()
        self._started = False

    def start(self) -> "PostgresServer":
        data, log = self.folder / "data", self.folder / "server.log"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        self._run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", str(START_TIMEOUT_S),
                  "-o", f"-p {self.port} -k {self.folder} {SERVER_OPTIONS}", "start", log=log)
        self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop", check=False)
            self._started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The plain ``postgresql://`` URL of ``database`` on this server (as users type it)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: Optional[str] = None) -> str:
        """Create a new empty database (named ``test_<n>`` unless given); return its URL (~0.2 s)."""
        name = name or f"test_{next(self._databases)}"
        self._execute("postgres", f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def empty_database(self, name: str = "ser_tf_test") -> str:
        """The URL of database ``name``, created on first use and emptied every call (~0.01 s).

        Emptying drops and recreates the ``public`` schema, which takes every table and the
        migrations' ``schema_version`` with it; close the previous test's connections first.
        """
        if name not in self._emptied:
            self.create_database(name)
            self._emptied.add(name)
        self._execute(name, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        return self.url(name)

    def _execute(self, database: str, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            connection.execute(statement)

    def _run(self, program: str, *arguments: str, log: Optional[Path] = None, check: bool = True) -> None:
        command = self._as_user + [str(self.bin_dir / program), *arguments]
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S + 30)
        if check and done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log and log.is_file() else ""
            raise PostgresUnavailable(f"{' '.join(command)} failed ({done.returncode}): "
                                      f"{done.stderr.strip()[-2000:]} {tail}")


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the test session; skips the test if it cannot be started."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as reason:
        unavailable(str(reason))
    try:
        server.start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as reason:
        server.stop()
        unavailable(f"PostgreSQL did not start: {reason}")
    yield server
    server.stop()


@pytest.fixture
def fresh_postgres_url(postgres_server):
    """The ``postgresql://`` URL of an empty database on the session's server (reused, emptied)."""
    return postgres_server.empty_database()
