"""Tests of ser_tf.data.manifest: data specs, probing, duplicates, label sets, the demo default."""

import dataclasses
import os
import shutil
import warnings

import numpy as np
import pytest

from ser_tf.data import manifest
from ser_tf.data.audio_io import probe_audio
from ser_tf.data.manifest import (
    DuplicateClipsWarning,
    LabelConflictWarning,
    UnreadableAudioWarning,
    load_data,
    parse_data_spec,
)
from ser_tf.data.records import Record
from ser_tf.errors import DataError, LabelError, ParameterError
from tests.data.support import write_conflict_corpus

# RAVDESS emotion codes: 01 neutral, 02 calm, 03 happy, 05 angry.
CODES = ("01", "02", "03", "05")


@pytest.fixture
def ravdess_root(tmp_path, write_wav):
    """3 actors x 4 emotions x 2 statements of 0.1 s noise in RAVDESS naming (24 files)."""
    root = tmp_path / "ravdess"
    for actor in (1, 2, 3):
        for emo in CODES:
            for stmt in ("01", "02"):
                write_wav(root / f"Actor_{actor:02d}" / f"03-01-{emo}-01-{stmt}-01-{actor:02d}.wav")
    return root


def test_parse_data_spec():
    assert parse_data_spec("ravdess=/data/r") == ("ravdess", "/data/r")
    assert parse_data_spec(" CREMA-D = /data/c ") == ("cremad", "/data/c")
    assert parse_data_spec("tess=~/t") == ("tess", os.path.expanduser("~/t"))
    assert parse_data_spec("demo") == ("demo", None)
    for bad in ("ravdess", "ravdess=", "=/data", "/data/ravdess"):
        with pytest.raises(ParameterError, match=rf"{bad!r}.*corpus=PATH"):
            parse_data_spec(bad)
    with pytest.raises(DataError, match="unknown corpus 'nosuch'"):
        parse_data_spec("nosuch=/data")


def test_load_data_probes_and_labels(ravdess_root):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean corpus: not a single warning
        bundle = load_data([f"ravdess={ravdess_root}"])
    assert len(bundle.records) == 24 and not bundle.skipped and not bundle.is_demo
    assert bundle.label_set.classes == ("neutral", "calm", "happy", "angry")
    assert bundle.roots == {"ravdess": str(ravdess_root)}
    assert sorted(bundle.durations.values()) == pytest.approx([0.1] * 24)
    labels = bundle.labels_array()
    assert labels.dtype == np.int32
    assert [bundle.label_set.classes[i] for i in labels] == [r.emotion for r in bundle.records]


def test_records_carry_their_probed_header(ravdess_root):
    bundle = load_data([f"ravdess={ravdess_root}"])
    for r in bundle.records:
        assert r.header == probe_audio(r.path)
        assert bundle.durations[r.path] == r.header.duration
        again = Record.from_dict(r.to_dict())
        assert again == r and again.header == r.header  # header survives, equality ignores it
    assert dataclasses.replace(bundle.records[0], header=None) == bundle.records[0]
    unprobed = load_data([f"ravdess={ravdess_root}"], probe=False)
    assert all(r.header is None for r in unprobed.records) and not unprobed.durations


def test_corrupt_and_empty_files_are_skipped_with_one_warning(ravdess_root, touch):
    garbage = touch(ravdess_root / "Actor_01" / "03-01-04-01-01-01-01.wav", os.urandom(2000))
    empty = touch(ravdess_root / "Actor_02" / "03-01-04-01-01-01-02.wav", b"")
    with pytest.warns(UnreadableAudioWarning, match=r"left out 2 unreadable") as caught:
        bundle = load_data([f"ravdess={ravdess_root}"])
    assert len([w for w in caught if w.category is UnreadableAudioWarning]) == 1
    assert len(bundle.records) == 24
    assert sorted(p for p, _ in bundle.skipped) == sorted([str(garbage), str(empty)])
    for path, reason in bundle.skipped:
        assert reason and not reason.startswith(path)  # the reason, without the path repeated
    assert "sad" not in bundle.label_set.classes  # the only sad clips were the bad ones


def test_byte_identical_copies_are_dropped(ravdess_root):
    src = ravdess_root / "Actor_01" / "03-01-01-01-01-01-01.wav"
    copy = ravdess_root / "Actor_03" / "03-01-01-01-01-02-03.wav"
    shutil.copyfile(src, copy)
    with pytest.warns(DuplicateClipsWarning, match="1 duplicate"):
        bundle = load_data([f"ravdess={ravdess_root}"])
    assert str(copy) not in {r.path for r in bundle.records}
    assert bundle.dropped["duplicate:content"] == 1
    assert bundle.duplicates == [(str(copy), str(src), "content")]
    # Without content checks the copy stays.
    assert len(load_data([f"ravdess={ravdess_root}"], dedupe_content=False).records) == 25


def test_same_file_through_two_corpora_is_kept_once(ravdess_root, tmp_path):
    folder = tmp_path / "byclass" / "happy"
    folder.mkdir(parents=True)
    target = ravdess_root / "Actor_02" / "03-01-03-01-01-01-02.wav"
    os.symlink(target, folder / "linked.wav")
    with pytest.warns(DuplicateClipsWarning):
        bundle = load_data([f"ravdess={ravdess_root}", f"folder={tmp_path / 'byclass'}"],
                           probe=False)
    assert bundle.dropped["duplicate:path"] == 1
    assert [r.corpus for r in bundle.records].count("folder") == 0


@pytest.fixture
def conflicts(tmp_path):
    """``(root, paths)`` of a folder corpus with one ordinary duplicate and one label conflict."""
    return tmp_path / "byclass", write_conflict_corpus(tmp_path / "byclass")


def _load_warned(root, **options):
    """``(bundle, {warning class: message})`` of the folder corpus ``root``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bundle = load_data([f"folder={root}"], **options)
    return bundle, {w.category: str(w.message) for w in caught}


def test_identical_clips_with_different_labels_are_all_dropped_by_default(conflicts):
    root, paths = conflicts
    bundle, said = _load_warned(root)
    kept = {r.path for r in bundle.records}
    assert len(bundle.records) == 24  # 4 x 6 clips; the copy and both conflicting files out
    assert paths["disgust"] not in kept and paths["fearful"] not in kept
    assert paths["original"] in kept and paths["copy"] not in kept
    # The conflict is reported apart from the ordinary duplicate, with paths and labels.
    assert bundle.duplicates == [(paths["copy"], paths["original"], "content")]
    assert bundle.conflicts == [("content", ((paths["disgust"], "disgust"), (paths["fearful"], "fearful")))]
    assert bundle.dropped["label-conflict"] == 2 and bundle.dropped["duplicate:content"] == 1
    assert "dropped all 2 copies" in said[LabelConflictWarning]
    assert f"{paths['fearful']} (fearful)" in said[LabelConflictWarning]
    assert "dropped 1 duplicate clip(s)" in said[DuplicateClipsWarning]


def test_keep_first_keeps_the_first_conflicting_copy_and_still_reports_it(conflicts):
    root, paths = conflicts
    bundle, said = _load_warned(root, on_label_conflict="keep-first")
    assert "kept the first of each" in said[LabelConflictWarning]
    kept = {r.path for r in bundle.records}
    assert len(bundle.records) == 25 and paths["disgust"] in kept and paths["fearful"] not in kept
    assert (paths["fearful"], paths["disgust"], "content") in bundle.duplicates
    assert len(bundle.conflicts) == 1 and "label-conflict" not in bundle.dropped
    assert bundle.dropped["duplicate:content"] == 2


def test_on_label_conflict_error_lists_every_conflict(conflicts):
    root, paths = conflicts
    with pytest.raises(DataError) as err:
        load_data([f"folder={root}"], on_label_conflict="error")
    text = str(err.value)
    assert "1 set(s) of identical clips carry different emotions" in text
    assert f"{paths['disgust']} (disgust) = {paths['fearful']} (fearful)" in text
    assert paths["copy"] not in text  # an ordinary duplicate is no conflict
    with pytest.raises(ParameterError, match="got 'keep-last'"):
        load_data([f"folder={root}"], on_label_conflict="keep-last")


def test_the_same_file_under_two_labels_is_a_conflict_too(conflicts, tmp_path):
    root, paths = conflicts
    os.symlink(paths["original"], root / "angry" / "linked.wav")  # happy and angry at once
    bundle, said = _load_warned(root, probe=False, dedupe_content=False)
    assert LabelConflictWarning in said
    linked = str(root / "angry" / "linked.wav")
    assert ("path", ((linked, "angry"), (paths["original"], "happy"))) in bundle.conflicts
    assert not {linked, paths["original"]} & {r.path for r in bundle.records}


def test_label_set_drops_are_counted(ravdess_root):
    bundle = load_data([f"ravdess={ravdess_root}"], labels="common6")
    assert bundle.label_set.name == "common6"
    assert bundle.label_drops() == {"calm": 6}
    assert bundle.dropped["label:calm"] == 6
    assert {r.emotion for r in bundle.records} == {"neutral", "happy", "angry"}
    with pytest.raises(LabelError, match=r"no clips of \['disgust', 'fearful', 'sad'\]"):
        load_data([f"ravdess={ravdess_root}"], labels="common6", require_all=True)
    with pytest.raises(LabelError, match="unknown label set 'bogus'"):
        load_data([f"ravdess={ravdess_root}"], labels="bogus")
    with pytest.raises(DataError, match="keeps none"):
        load_data([f"ravdess={ravdess_root}"], labels="sad,disgust")


def test_bad_corpus_arguments(ravdess_root, tmp_path, touch):
    with pytest.raises(DataError, match="given more than once"):
        load_data([f"ravdess={ravdess_root}", f"ravdess={ravdess_root}"])
    with pytest.raises(DataError, match="does not exist"):
        load_data([f"ravdess={tmp_path / 'missing'}"])
    bad = tmp_path / "bad"
    touch(bad / "Actor_01" / "03-01-01-01-01-01-01.wav", b"garbage")
    with pytest.warns(UnreadableAudioWarning), pytest.raises(DataError, match="no usable clips"):
        load_data([f"ravdess={bad}"])
    with pytest.raises(ParameterError, match="scan options"):
        load_data([f"ravdess={ravdess_root}"], scan_options={"folder": {"speaker_pattern": "x"}})


def test_no_spec_means_the_demo_corpus(monkeypatch, tmp_path):
    calls = []
    real_scan = manifest.scan_corpus

    def small_demo(name, root=None, **options):
        calls.append((name, root))
        # A tiny demo in tmp_path instead of the 256-clip default in the cache.
        return real_scan(name, tmp_path / "demo", n_speakers=3, clips_per_emotion=1)

    monkeypatch.setattr(manifest, "scan_corpus", small_demo)
    for specs in (None, []):
        bundle = load_data(specs, probe=False)
        assert bundle.is_demo and {r.corpus for r in bundle.records} == {"demo"}
        assert len(bundle.records) == 24 and bundle.roots == {"demo": str(tmp_path / "demo")}
    assert calls == [("demo", None), ("demo", None)]
