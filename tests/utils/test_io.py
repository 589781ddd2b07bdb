"""Atomic writes: a writer killed mid-write never leaves a half-written artefact, and a full disk
gives an error naming the file and leaves the old content (``latest`` included)."""

from __future__ import annotations

import errno
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from ser_tf import runs
from ser_tf.errors import DiskFullError
from ser_tf.utils.io import atomic_path, copy_file, write_json, write_text
from tests.processes import sigkilled_on_exit

ROOT = Path(__file__).resolve().parents[2]
OLD = "old artefact, complete\n"
# Writes 1 MiB blocks through atomic_path for ever: it is always killed mid-write, never by luck
# between two writes.
WRITER = """
import sys
from ser_tf.utils.io import atomic_path
with atomic_path(sys.argv[1]) as tmp, open(tmp, "wb") as fh:
    while True:
        fh.write(b"x" * (1 << 20))
        fh.flush()
"""


def _writer(target):
    return sigkilled_on_exit([sys.executable, "-c", WRITER, str(target)], env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_a_writer_killed_mid_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text(OLD)
    reads = 0
    with _writer(target) as proc:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reads += 1
            assert target.read_text() == OLD  # a reader during the write sees the old file whole
            temps = [p for p in tmp_path.iterdir() if p != target]
            if temps and temps[0].stat().st_size >= 8 << 20:  # 8 MiB written: well inside the write
                break
            time.sleep(0.01)
        assert proc.poll() is None
    assert proc.returncode == -signal.SIGKILL and reads > 0
    assert target.read_text() == OLD  # after the kill too
    # What the kill leaves is a hidden temporary file beside it, never the target half-written.
    assert all(p.name.startswith(".model.") for p in tmp_path.iterdir() if p != target)


def test_a_new_file_killed_mid_write_is_absent(tmp_path):
    target = tmp_path / "labels.json"
    with _writer(target) as proc:
        while not any(p.stat().st_size for p in tmp_path.iterdir()):
            assert proc.poll() is None
            time.sleep(0.01)
    assert proc.returncode == -signal.SIGKILL and not target.exists()


def _disk_full(*args, **kwargs):
    # Simulated: a tiny filesystem cannot be mounted everywhere (CI runs without root).
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_names_the_file_and_keeps_the_old_content(tmp_path):
    target = tmp_path / "report.json"
    write_json(target, {"ua": 0.5})
    before = target.read_text()
    with pytest.raises(DiskFullError, match=f"no space left .* writing {target}"):
        with atomic_path(target):
            _disk_full()
    assert target.read_text() == before and list(tmp_path.iterdir()) == [target]  # no temp left


def test_h5py_style_disk_full_message_is_recognised(tmp_path):
    # h5py reports ENOSPC in its text, with errno unset.
    with pytest.raises(DiskFullError, match="model.h5"):
        with atomic_path(tmp_path / "model.h5"):
            raise OSError("Unable to synchronously create file (file write failed: errno = 28, "
                          "error message = 'No space left on device')")


def test_disk_full_never_corrupts_latest(tmp_path, monkeypatch):
    old_run, new_run = runs.RunFolder(tmp_path / "a-1"), runs.RunFolder(tmp_path / "a-2")
    for run in (old_run, new_run):
        run.path.mkdir()
    runs.point_latest(old_run)
    monkeypatch.setattr(Path, "write_text", _disk_full)
    with pytest.raises(DiskFullError, match=str(tmp_path / runs.LATEST)):
        runs.point_latest(new_run)
    monkeypatch.undo()
    assert runs.latest_run(tmp_path).path == old_run.path


def test_copy_and_text_writes_replace_whole_files(tmp_path):
    src = tmp_path / "src.txt"
    write_text(src, "new\n")
    dst = tmp_path / "sub" / "dst.txt"
    copy_file(src, dst)
    assert dst.read_text() == "new\n" and sorted(p.name for p in dst.parent.iterdir()) == ["dst.txt"]
