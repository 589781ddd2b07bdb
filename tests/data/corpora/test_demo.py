"""Tests for ser_tf.data.corpora.demo: generating the demo corpus into a folder, and scanning it."""

import json

import numpy as np
import pytest
import soundfile as sf

from ser_tf.data.corpora import demo, ravdess, scan_corpus
from ser_tf.errors import DataError, ParameterError

TINY = {"n_speakers": 2, "clips_per_emotion": 1}


def test_files_follow_ravdess_naming_and_format(tiny_corpus):
    result = ravdess.scan(tiny_corpus)
    assert result.skipped == [] and len(result.records) == 16
    assert sorted({r.emotion for r in result.records}) == sorted(ravdess.EMOTIONS.values())
    assert {r.speaker: r.gender for r in result.records} == {
        "ravdess:01": "male",
        "ravdess:02": "female",
    }
    info = sf.info(result.records[0].path)
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    for rec in result.records:
        audio, _ = sf.read(rec.path)
        assert 2.5 <= len(audio) / 16000 <= 3.5
        assert np.abs(audio).max() < 1.0
        assert np.abs(audio[:1000]).max() < 0.01  # a little leading silence
    marker = json.loads((tiny_corpus / demo.MARKER_FILE).read_text())
    assert marker["version"] == demo.DEMO_VERSION and marker["n_clips"] == 16
    assert marker["params"] == {**TINY, "seed": 0, "sample_rate": 16000}
    assert marker["speakers"] == ["demo:01", "demo:02"] and len(marker["emotions"]) == 8
    assert "SYNTHETIC" in (tiny_corpus / "README.txt").read_text()


def test_deterministic_and_idempotent(tiny_corpus, tmp_path):
    again = demo.ensure_demo_corpus(tmp_path / "again", **TINY)
    for path in sorted(tiny_corpus.rglob("*.wav")):
        assert (again / path.relative_to(tiny_corpus)).read_bytes() == path.read_bytes()
    # A second call with the same parameters rewrites nothing.
    stamp = {p: p.stat().st_mtime_ns for p in again.rglob("*")}
    assert demo.ensure_demo_corpus(again, **TINY) == again
    assert {p: p.stat().st_mtime_ns for p in again.rglob("*")} == stamp
    # Other parameters regenerate in place, and the stale files go.
    demo.ensure_demo_corpus(again, n_speakers=1, clips_per_emotion=1, seed=3)
    assert len(list(again.rglob("*.wav"))) == 8 and not (again / "Actor_02").exists()
    assert json.loads((again / demo.MARKER_FILE).read_text())["params"]["seed"] == 3


def test_scan_corpus_demo_uses_cache_and_labels_records(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_TF_CACHE", str(tmp_path / "cache"))
    assert demo.default_root() == tmp_path / "cache" / f"demo-v{demo.DEMO_VERSION}"
    result = scan_corpus("demo", **TINY)
    assert len(result.records) == 16
    assert {r.corpus for r in result.records} == {"demo"}
    assert sorted({r.speaker for r in result.records}) == ["demo:01", "demo:02"]
    assert result.records[0].path.startswith(str(demo.default_root()))


def test_bad_parameters_and_foreign_folder(tmp_path):
    for bad in ({"n_speakers": 0}, {"n_speakers": 25}, {"clips_per_emotion": 9}, {"seed": -1}):
        with pytest.raises(ParameterError, match=next(iter(bad))):
            demo.ensure_demo_corpus(tmp_path / "x", **bad)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep me")
    with pytest.raises(DataError, match="not a demo corpus folder"):
        demo.ensure_demo_corpus(tmp_path / "mine", **TINY)
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "keep me"


def test_scan_reads_an_existing_corpus_as_it_is(tmp_path):
    """``--data demo=PATH`` must read the corpus at PATH, never regenerate it at default sizes."""
    root = demo.ensure_demo_corpus(tmp_path / "small", n_speakers=2, clips_per_emotion=1)
    before = sorted(p.name for p in root.rglob("*.wav"))
    result = demo.scan(root)
    assert len(result.records) == 2 * 8 * 1
    assert sorted(p.name for p in root.rglob("*.wav")) == before
    assert {r.speaker for r in result.records} == {"demo:01", "demo:02"}
