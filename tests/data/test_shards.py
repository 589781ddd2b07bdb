"""Tests for ser_tf.data.shards: what an export writes, the stored split and its leak guard, and
bad shards (truncated, missing) named while the good ones still read."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from ser_tf.data.__main__ import main as data_main
from ser_tf.data.manifest import load_data
from ser_tf.data.pipeline import decode_file
from ser_tf.data.shard_files import MANIFEST_FILE, check_shard_sizes, file_sha256, open_shards, verify_shards
from ser_tf.data.shards import export_shards, stored_splits
from ser_tf.errors import DataError, ParameterError


@pytest.fixture
def shard_copy(shard_export, tmp_path):
    """A private copy of the session's shards, free to damage."""
    return shutil.copytree(shard_export[1], tmp_path / "shards")


def test_export_writes_int16_audio_labels_and_a_manifest_with_counts_hashes_and_split(shard_export):
    corpus, out = shard_export
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["counts"]["clips"] == 32 and manifest["counts"]["shards"] == 7
    assert manifest["counts"]["speakers"] == 4 and manifest["counts"]["per_class"]["angry"] == 4
    assert [s["clips"] for s in manifest["shards"]] == [5] * 6 + [2]
    for entry in manifest["shards"]:
        path = out / entry["file"]
        assert path.stat().st_size == entry["bytes"] and file_sha256(str(path)) == entry["sha256"]
    (split,) = manifest["splits"]
    assert split["method"] == "speaker" and split["seed"] == 7
    assert sorted(sum(split["parts"].values(), [])) == list(range(32))  # every clip in one part

    shard_set = open_shards(str(out))
    first = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(shard_set.shard_files[1]))).numpy())
    feature = first.features.feature
    index = feature["index"].int64_list.value[0]
    record = shard_set.records[index]
    assert index == 5 and feature["path"].bytes_list.value[0].decode() == record.path
    assert feature["speaker"].bytes_list.value[0].decode() == record.speaker == "demo:01"
    assert feature["corpus"].bytes_list.value[0].decode() == "demo"
    classes = manifest["label_set"]["classes"]
    assert classes[feature["label"].int64_list.value[0]] == record.emotion
    audio = np.frombuffer(feature["audio"].bytes_list.value[0], "<i2")
    # 16-bit sources round-trip exactly: int16 / 32768 is what the file pipeline decodes
    np.testing.assert_array_equal(audio / 32768.0, decode_file(record.path).numpy())


def test_load_data_reads_the_manifest_and_the_stored_split_is_the_exported_one(shard_export):
    corpus, out = shard_export
    from_files = load_data([f"demo={corpus}"])
    from_shards = load_data([f"tfrecord={out}"])
    assert from_shards.records == from_files.records and from_shards.classes == from_files.classes
    assert from_shards.is_demo and from_shards.shards.root == str(out)
    (split,) = stored_splits(from_shards.shards, from_shards.records, method="speaker")
    from ser_tf.data.splits import make_splits

    (expected,) = make_splits(from_files.records, method="speaker", seed=7)
    assert split.parts() == expected.parts()
    from ser_tf.data.summary import summarize

    assert summarize(from_shards, [split]) == summarize(from_files, [expected])  # what the CLI prints
    with pytest.raises(DataError, match="stores a 'speaker' split but the run asks for 'kfold'"):
        stored_splits(from_shards.shards, from_shards.records, method="kfold")
    # A label set that keeps fewer emotions filters the stored parts the same way.
    subset = load_data([f"tfrecord={out}"], labels="angry,sad")
    (part,) = stored_splits(subset.shards, subset.records)
    assert {r.emotion for r in part.train + part.val + part.test} == {"angry", "sad"}


def test_leak_guard_refuses_a_manifest_with_a_speaker_in_two_parts(shard_copy):
    path = shard_copy / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    parts = manifest["splits"][0]["parts"]
    moved = parts["train"].pop(0)  # one training clip of a training speaker, moved into test
    parts["test"].append(moved)
    path.write_text(json.dumps(manifest))
    speaker = manifest["clips"][moved]["speaker"]
    shard_set = open_shards(str(shard_copy))
    with pytest.raises(DataError, match=rf"leak guard.*{speaker}.*in both train and test"):
        stored_splits(shard_set, shard_set.records)


def test_a_truncated_shard_is_named_and_the_others_still_read(shard_copy, capsys):
    bad = shard_copy / "shard-00002-of-00007.tfrecord"
    bad.write_bytes(bad.read_bytes()[:-100])
    shard_set = open_shards(str(shard_copy))

    report = verify_shards(shard_set)
    assert [p for p, _ in report.bad] == [str(bad)] and "truncated" in report.bad[0][1]
    assert len(report.good) == 6 and report.clips == 27

    with pytest.raises(DataError, match=r"shard-00002-of-00007\.tfrecord has \d+ bytes, the manifest says"):
        check_shard_sizes(shard_set)
    check_shard_sizes(shard_set, [0, 1, 3, 4, 5, 6])  # the others are fine

    assert data_main(["--data", f"tfrecord={shard_copy}", "--verify", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert f"bad shard: {bad}" in captured.err and "6 of 7 shard(s) good (27 clips); 1 bad" in captured.out


def test_a_missing_shard_and_a_damaged_record_are_named(shard_copy):
    (shard_copy / "shard-00006-of-00007.tfrecord").unlink()
    damaged = shard_copy / "shard-00000-of-00007.tfrecord"
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF  # same size, a flipped byte inside the first record
    damaged.write_bytes(bytes(data))
    report = verify_shards(open_shards(str(shard_copy)))
    reasons = dict(report.bad)
    assert reasons[str(shard_copy / "shard-00006-of-00007.tfrecord")] == "missing"
    assert "SHA-256" in reasons[str(damaged)]
    assert len(report.good) == 5


def test_export_refuses_bad_arguments_and_an_existing_manifest(shard_export, tmp_path):
    corpus, out = shard_export
    bundle = load_data([f"demo={corpus}"])
    with pytest.raises(ParameterError, match="shard_size must be an integer >= 1.*got 0"):
        export_shards(bundle.records, classes=bundle.classes, out=str(tmp_path / "x"), shard_size=0)
    with pytest.raises(ParameterError, match=r"emotions \['angry'"):
        export_shards(bundle.records, classes=["sad"], out=str(tmp_path / "x"))
    with pytest.raises(DataError, match="already exists"):
        export_shards(bundle.records, classes=bundle.classes, out=str(out))
    with pytest.raises(DataError, match="holds no manifest.json"):
        open_shards(str(tmp_path))
    (tmp_path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(DataError, match="not a JSON manifest"):
        open_shards(str(tmp_path))


def test_cli_exports_shards_that_load_back(shard_export, tmp_path, capsys):
    corpus, _ = shard_export
    out = tmp_path / "cli-shards"
    code = data_main(["--data", f"demo={corpus}", "--export-tfrecord", str(out), "--shard-size", "20",
                      "--seed", "7", "--quiet"])
    assert code == 0
    assert "wrote 32 clips in 2 shard(s)" in capsys.readouterr().err
    assert data_main(["--data", f"tfrecord={out}", "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_clips"] == 32 and summary["n_speakers"] == 4
    with pytest.raises(SystemExit) as exit_info:
        data_main(["--data", f"demo={corpus}", "--export-tfrecord", str(tmp_path / "y"), "--split", "none"])
    assert exit_info.value.code == 2
    assert "--export-tfrecord stores the split in the manifest" in capsys.readouterr().err
