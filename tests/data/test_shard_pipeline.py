"""Tests for ser_tf.data.shard_pipeline: the same batches as the file pipeline when the shuffle
buffer holds the part, every clip once per epoch when streamed, and bad input named."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ser_tf.data.manifest import load_data
from ser_tf.data.pipeline import make_dataset
from ser_tf.data.shard_pipeline import make_shard_dataset
from ser_tf.data.shards import stored_splits
from ser_tf.errors import ConfigError, DataError, ParameterError
from ser_tf.settings import AudioConfig

AUDIO = AudioConfig(sample_rate=16000, duration=0.5)
AUGMENT = {"noise": {"enabled": True, "p": 1.0}, "gain": {"enabled": True, "p": 1.0}}


@pytest.fixture(scope="module")
def parts(shard_export):
    """``(shard bundle, file bundle, {part: records})`` of the stored speaker split."""
    corpus, out = shard_export
    shards, files = load_data([f"tfrecord={out}"]), load_data([f"demo={corpus}"])
    (split,) = stored_splits(shards.shards, shards.records)
    return shards, files, split.parts()


def _epochs(ds, n=2):
    return [[(x.numpy(), y.numpy()) for x, y in ds] for _ in range(n)]


@pytest.mark.parametrize("part,training", [("train", True), ("test", False)])
def test_shards_give_the_file_pipelines_batches(parts, part, training):
    shards, files, split = parts
    records = split[part]
    labels = shards.labels_array(records)
    common = dict(audio=AUDIO, augment=AUGMENT, training=training, batch_size=4, seed=3)
    expected = _epochs(make_dataset(records, labels, cache="none", **common))
    got = _epochs(make_shard_dataset(shards.shards, records, labels, **common))
    assert len(got[0]) == len(expected[0]) == int(np.ceil(len(records) / 4))
    for epoch_got, epoch_expected in zip(got, expected):
        for (x, y), (x_ref, y_ref) in zip(epoch_got, epoch_expected):
            np.testing.assert_array_equal(y, y_ref)
            np.testing.assert_array_equal(x, x_ref)
    if training:  # reshuffled, re-augmented each epoch, like the file pipeline
        assert not np.array_equal(got[0][0][0], got[1][0][0])


def test_a_part_larger_than_the_buffer_is_streamed_every_clip_once_per_epoch(parts):
    shards, _, split = parts
    records = split["train"]
    labels = np.arange(len(records)) % 8
    ds = make_shard_dataset(shards.shards, records, labels, audio=AUDIO, training=True, batch_size=5,
                            seed=1, shuffle_buffer=4, cycle_length=3)
    assert int(ds.cardinality()) == int(np.ceil(len(records) / 5))
    epochs = [np.concatenate([y.numpy() for _, y in ds]) for _ in range(2)]
    for seen in epochs:
        np.testing.assert_array_equal(np.sort(seen), np.sort(labels))
    assert not np.array_equal(epochs[0], epochs[1])


def test_bad_input_is_refused_with_the_value(parts, shard_export, tmp_path):
    shards, files, split = parts
    records = split["test"]
    labels = shards.labels_array(records)
    kw = dict(audio=AUDIO, training=False, batch_size=4, seed=0)
    with pytest.raises(ParameterError, match="clip-id order and each at most once"):
        make_shard_dataset(shards.shards, records + records[:1], np.r_[labels, labels[:1]], **kw)
    with pytest.raises(ParameterError, match="not in the shards"):
        make_shard_dataset(shards.shards, [r.__class__(**{**r.to_dict(), "path": "/elsewhere.wav"})
                                           for r in records], labels, **kw)
    with pytest.raises(ConfigError, match="audio.sample_rate is 8000 Hz but the shards .* hold 16000 Hz"):
        make_shard_dataset(shards.shards, records, labels, **{**kw, "audio": AudioConfig(sample_rate=8000)})
    with pytest.raises(ConfigError, match="babble is not available"):
        make_shard_dataset(shards.shards, records, labels, **{**kw, "training": True},
                           augment={"babble": {"enabled": True}})


def test_a_truncated_shard_stops_only_the_parts_that_need_it(shard_export, tmp_path):
    copy = shutil.copytree(shard_export[1], tmp_path / "shards")
    bundle = load_data([f"tfrecord={copy}"])
    (split,) = stored_splits(bundle.shards, bundle.records)
    by_shard = {}
    for part, records in split.parts().items():
        ids = [bundle.shards.clip_ids()[r.path] for r in records]
        by_shard[part] = bundle.shards.shards_of(ids)
    only_train = sorted(set(by_shard["train"]) - set(by_shard["test"]))  # speakers 8 clips, shards 5
    victim = bundle.shards.shard_files[only_train[0]]
    with open(victim, "r+b") as fh:
        fh.truncate(1000)
    kw = dict(audio=AUDIO, training=False, batch_size=4, seed=0)
    with pytest.raises(DataError, match=rf"{victim} has 1000 bytes, the manifest says"):
        make_shard_dataset(bundle.shards, split.train, bundle.labels_array(split.train), **kw)
    records = split.test  # its shards are whole: it still reads
    ds = make_shard_dataset(bundle.shards, records, bundle.labels_array(records), **kw)
    assert sum(int(y.shape[0]) for _, y in ds) == len(records)
