"""Tests of ser_tf.data.summary and of the ``python -m ser_tf.data`` CLI (as a subprocess)."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ser_tf.data.labels import LABEL_SETS
from ser_tf.data.manifest import DataBundle
from ser_tf.data.records import Record
from ser_tf.data.splits import make_splits
from ser_tf.data.summary import compact_speakers, summarize, summary_dict
from tests.data.support import write_conflict_corpus

REPO = Path(__file__).resolve().parents[2]
SIX = LABEL_SETS["common6"].classes


def _bundle(*, is_demo=False, n_speakers=6):
    records = [
        Record(f"/d/Actor_{s:02d}/{e}-{k}.wav", e, e, f"ravdess:{s:02d}", "ravdess",
               "male" if s % 2 else "female")
        for s in range(1, n_speakers + 1) for e in SIX for k in range(2)
    ]
    skipped = [(f"/d/bad{k}.wav", "cannot decode (Format not recognised)") for k in range(5)]
    skipped.append(("/d/x.wav", "name is not seven two-digit fields MM-VV-EE-II-SS-RR-AA"))
    return DataBundle(
        records=records, label_set=LABEL_SETS["common6"], skipped=skipped,
        dropped=Counter({"label:calm": 12, "label:surprised": 10, "duplicate:content": 1}),
        roots={"ravdess": "/d"}, is_demo=is_demo,
        duplicates=[("/d/Actor_01/copy.wav", "/d/Actor_01/orig.wav", "content")],
    )


def test_compact_speakers():
    ids = ["ravdess:01", "ravdess:02", "ravdess:03", "ravdess:07", "tess:OAF", "tess:YAF"]
    assert compact_speakers(ids) == "ravdess 01-03,07 | tess OAF,YAF"
    many = [f"folder:{name}" for name in "ABCDEFGHIJKLMNOP"]
    assert compact_speakers(many, max_items=3) == "folder A,B,C,... (16 in all)"


def test_summary_content():
    bundle = _bundle()
    text = summarize(bundle, make_splits(bundle.records, method="kfold", n_folds=3, seed=0))
    assert "DEMO DATA" not in text
    assert "Data: 72 clips, 6 speakers, 1 corpus" in text
    assert "6 speakers (3 female, 3 male): ravdess 01-06" in text
    assert "Label set: common6 (6 classes): angry, disgust, fearful, happy, neutral, sad" in text
    assert "Dropped by the label set: 22 clips (calm 12, surprised 10)" in text
    assert "byte-identical copy: 1" in text and "copy.wav" in text
    # Skipped files grouped by reason, with at most 3 examples each.
    assert "Skipped files: 6" in text
    assert "5 x cannot decode" in text and "... and 2 more" in text
    assert "/d/bad2.wav" in text and "/d/bad3.wav" not in text
    assert "1 x name is not seven two-digit fields" in text
    assert "Splits: kfold, 3 split(s), speaker-independent" in text
    for name in ("fold-1", "fold-2", "fold-3"):
        assert name in text
    assert "test speakers: ravdess" in text
    assert len(text.splitlines()) < 80  # a screen or two


def test_summary_flags_demo_and_random_splits():
    bundle = _bundle(is_demo=True)
    text = summarize(bundle, make_splits(bundle.records, method="random", seed=0))
    assert text.startswith("*** DEMO DATA")
    assert "NOT speaker-independent" in text
    assert "WARNING: speakers overlap between splits; figures are optimistic" in text


def test_many_splits_one_line_each():
    bundle = _bundle(n_speakers=10)
    text = summarize(bundle, make_splits(bundle.records, method="loso", seed=0))
    assert len(text.splitlines()) < 50
    assert "loso-ravdess-10" in text


def test_summary_dict_is_json():
    bundle = _bundle()
    data = json.loads(json.dumps(summary_dict(bundle, make_splits(bundle.records, method="speaker"))))
    assert data["n_clips"] == 72 and data["label_set"]["name"] == "common6"
    assert data["corpora"]["ravdess"]["emotions"] == {e: 12 for e in SIX}
    assert data["splits"][0]["name"] == "holdout" and len(data["skipped"]) == 6


# --------------------------------------------------------------------------------------------
# The CLI, as a user runs it


def _cli(*args, check_no_tf=False):
    code = (
        "import sys\n"
        "from ser_tf.data.__main__ import main\n"
        f"rc = main({list(args)!r})\n"
        "assert 'tensorflow' not in sys.modules, 'python -m ser_tf.data imported tensorflow'\n"
        "sys.exit(rc)\n"
    )
    cmd = [sys.executable, "-c", code] if check_no_tf else [sys.executable, "-m", "ser_tf.data", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=120)


@pytest.fixture
def corpus(tmp_path, write_wav, touch):
    """4 actors x 3 emotions x 2 clips of 0.1 s in RAVDESS naming, plus one corrupt 'wav'."""
    root = tmp_path / "ravdess"
    for actor in range(1, 5):
        for emo in ("01", "03", "05"):
            for rep in ("01", "02"):
                write_wav(root / f"Actor_{actor:02d}" / f"03-01-{emo}-01-01-{rep}-{actor:02d}.wav")
    touch(root / "Actor_02" / "03-01-04-01-01-01-02.wav", os.urandom(1500))
    return root


def test_cli_summarises_and_skips_corrupt_files(corpus):
    result = _cli("--data", f"ravdess={corpus}", "--split", "speaker", check_no_tf=True)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Data: 24 clips, 4 speakers" in out
    assert "Skipped files: 1" in out and "03-01-04-01-01-01-02.wav" in out
    assert "Splits: speaker, 1 split(s), speaker-independent" in out
    assert "warning: left out 1 unreadable" in result.stderr
    assert "Traceback" not in result.stderr

    result = _cli("--data", f"ravdess={corpus}", "--split", "kfold", "--n-folds", "2", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["name"] for s in data["splits"]] == ["fold-1", "fold-2"]
    assert len(data["skipped"]) == 1 and data["n_clips"] == 24


def test_cli_errors_exit_2_without_traceback(tmp_path, corpus):
    (tmp_path / "empty").mkdir()
    result = _cli("--data", f"ravdess={tmp_path / 'empty'}")
    assert result.returncode == 2
    assert "no clips found under" in result.stderr and "Expected naming scheme" in result.stderr
    assert "Traceback" not in result.stderr

    result = _cli("--data", f"ravdess={corpus}", "--labels", "happyish")
    assert result.returncode == 2
    assert "unknown label set 'happyish'" in result.stderr and "Traceback" not in result.stderr


def test_label_conflicts_are_summarised_apart_from_duplicates_in_each_mode(tmp_path):
    paths = write_conflict_corpus(tmp_path / "byclass")
    data = f"folder={tmp_path / 'byclass'}"
    result = _cli("--data", data, "--split", "none", check_no_tf=True)  # default: drop
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Data: 24 clips" in out
    assert "byte-identical copy: 1" in out and "identical copies with different labels: 2" in out
    assert ("Label conflicts: 1 set(s) of identical clips (2 files) with different labels, all dropped:"
            in out)
    assert f"{paths['disgust']} (disgust)  = {paths['fearful']} (fearful)" in out
    assert "warning: 1 set(s) of identical clips carry different emotions" in result.stderr

    result = _cli("--data", data, "--split", "none", "--on-label-conflict", "keep-first", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["n_clips"] == 25 and "label-conflict" not in summary["dropped"]
    assert summary["label_conflicts"] == {"action": "keep-first", "sets": [{"kind": "content", "clips": [
        {"path": paths["disgust"], "emotion": "disgust"}, {"path": paths["fearful"], "emotion": "fearful"}]}]}
    assert {d["path"] for d in summary["duplicates"]} == {paths["copy"], paths["fearful"]}

    result = _cli("--data", data, "--on-label-conflict", "error")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: 1 set(s) of identical clips carry different emotions: {paths['disgust']} (disgust)" in result.stderr
