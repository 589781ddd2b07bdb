"""The tf.data pipeline over TFRecord shards: ``make_dataset``'s twin for ``--data tfrecord=DIR``.

Chain::

    shard files (those holding the part's clips) -> interleave(TFRecordDataset) -> parse
      -> keep the part's clip ids, label from the caller -> shuffle (training, int16)
      -> fix_length + augment (training) / centre fit (evaluation) -> batch -> prefetch

Nothing is cached in memory: the shards already hold decoded audio, and a cache would keep the
whole corpus in RAM. What RAM holds is bounded whatever the corpus size: the shuffle buffer
(``shuffle_buffer`` clips, as int16) and the interleave's read-ahead.

Order. When the shuffle buffer holds the whole training part (the default buffer covers corpora
of a few thousand clips), the shards are read in clip-id order, which is the order the file
pipeline is given, and a full-buffer shuffle with the same seed draws the same permutation: the
batches, and so the trained model and its metrics, are those of ``make_dataset`` on the source
files (tested). A larger part is streamed: each epoch reads the shards in a fresh seeded order,
``cycle_length`` of them read in parallel and interleaved clip by clip, into the bounded buffer.
Evaluation parts are always read in clip-id order (one shard after the other), so predictions
pair with their records.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from ser_tf.data.pipeline import check_pipeline_options, finish_dataset
from ser_tf.data.records import Record
from ser_tf.data.shard_files import ShardSet, check_shard_sizes
from ser_tf.errors import ConfigError, ParameterError

__all__ = ["make_shard_dataset", "SHUFFLE_BUFFER", "CYCLE_LENGTH"]

# Clips in the training shuffle buffer: 2048 RAVDESS-length (3.5 s) int16 clips are ~230 MB.
SHUFFLE_BUFFER = 2048
# Shards read at once; interleaving several mixes speakers of different shards before the buffer.
CYCLE_LENGTH = 8
_SPEC = {
    "audio": tf.io.FixedLenFeature([], tf.string),
    "index": tf.io.FixedLenFeature([], tf.int64),
}


def make_shard_dataset(
    shard_set: ShardSet,
    records: Sequence[Record],
    labels: Sequence[int],
    *,
    audio,
    training: bool,
    batch_size: int,
    seed: int,
    augment=None,
    shuffle: Optional[bool] = None,
    shuffle_buffer: int = SHUFFLE_BUFFER,
    cycle_length: int = CYCLE_LENGTH,
) -> tf.data.Dataset:
    """Build the ``(waveform, label)`` dataset of a split part from shards.

    Args:
        shard_set: the shards (``ser_tf.data.shards.open_shards``; ``DataBundle.shards``).
        records: the part's clips, records of ``shard_set`` in clip-id order (as ``load_data``
            and the stored splits give them); each at most once.
        labels: class index (>= 0) of each record.
        audio, training, batch_size, seed, augment, shuffle: as for
            :func:`ser_tf.data.pipeline.make_dataset`.
        shuffle_buffer: clips in the training shuffle buffer (> 0); a part that fits is read in
            clip-id order (batches identical to ``make_dataset``'s), a larger one is streamed.
        cycle_length: shards read concurrently (> 0).

    Returns:
        ``(waveform, label)`` batches: float32 ``(batch, n_samples)`` and int32 ``(batch,)``, with
        a known cardinality; a shard holding fewer of the part's clips than the manifest says
        fails the iteration.

    Raises:
        ParameterError: records not in the shards, repeated or out of order; mismatched lengths.
        ConfigError: ``audio.sample_rate`` differs from the shards'; babble (needs a bank of
            decoded source clips, not built from shards yet).
        DataError: a shard the part needs is missing or has the wrong size (names it).
    """
    shuffle, audio, _, enabled, batch_size = check_pipeline_options(
        audio=audio, augment=augment, training=training, shuffle=shuffle, batch_size=batch_size)
    labels = np.asarray(labels)
    if len(records) != len(labels) or not len(records):
        raise ParameterError(f"got {len(records)} records and {len(labels)} labels; need as many, at least one")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ParameterError(f"labels must be class indices >= 0, got {labels[:5].tolist()}...")
    if int(shuffle_buffer) < 1 or int(cycle_length) < 1:
        raise ParameterError(f"shuffle_buffer and cycle_length must be >= 1, got {shuffle_buffer!r}, {cycle_length!r}")
    if audio.sample_rate != shard_set.sample_rate:
        raise ConfigError(f"audio.sample_rate is {audio.sample_rate} Hz but the shards in {shard_set.root} "
                          f"hold {shard_set.sample_rate} Hz audio; export them again at that rate")
    if "babble" in enabled:
        raise ConfigError("augment.babble is not available when training from shards (its bank is "
                          "made of source files); disable it or train from the corpus folders")
    ids = _clip_ids(shard_set, records)

    shards = shard_set.shards_of(ids)
    check_shard_sizes(shard_set, shards)  # a truncated shard fails here, by name, before training
    files = tf.constant([shard_set.shard_files[j] for j in shards])
    streamed = shuffle and len(ids) > int(shuffle_buffer)
    files_ds = tf.data.Dataset.from_tensor_slices(files)
    if streamed:  # a fresh shard order each epoch, shards read in parallel and interleaved clip by clip
        files_ds = files_ds.shuffle(len(shards), seed=seed, reshuffle_each_iteration=True)
        ds = files_ds.interleave(tf.data.TFRecordDataset, cycle_length=min(int(cycle_length), len(shards)),
                                 block_length=1, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        # Clip-id order: whole shards one after the other. Not in parallel: a parallel interleave
        # buffers ahead in every open shard, up to a shard's worth each (measured: +0.5 GB).
        block = max(s["clips"] for s in shard_set.manifest["shards"])
        ds = files_ds.interleave(tf.data.TFRecordDataset, cycle_length=1, block_length=block)

    # The label of every clip id, -1 for clips outside the part (4 bytes a clip of the corpus).
    label_of = np.full(len(shard_set.records), -1, np.int32)
    label_of[ids] = labels
    label_of = tf.constant(label_of)

    @tf.autograph.experimental.do_not_convert
    def parse(serialized):
        example = tf.io.parse_single_example(serialized, _SPEC)
        return example["audio"], tf.gather(label_of, example["index"])

    @tf.autograph.experimental.do_not_convert
    def decode(audio_bytes, label):
        return tf.io.decode_raw(audio_bytes, tf.int16, little_endian=True), label

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.filter(lambda _, label: label >= 0)  # the part's clips only
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(ids)))
    buffer = min(len(ids), int(shuffle_buffer)) if shuffle else 0
    return finish_dataset(ds, training=training, shuffle_buffer=buffer, seed=seed, audio=audio,
                          augment_config=enabled, babble_bank=None, batch_size=batch_size)


def _clip_ids(shard_set: ShardSet, records: Sequence[Record]) -> list:
    id_of = shard_set.clip_ids()
    missing = [r.path for r in records if r.path not in id_of]
    if missing:
        raise ParameterError(f"{len(missing)} record(s) are not in the shards of {shard_set.root}, "
                             f"e.g. {missing[:3]}")
    ids = [id_of[r.path] for r in records]
    if any(b <= a for a, b in zip(ids, ids[1:])):
        raise ParameterError("records must be in clip-id order and each at most once (as load_data "
                             "and the stored splits give them); oversampling is not available "
                             "from shards, use data.balance=class_weight")
    return ids
