"""runner.one_iterator: one iterator for a whole fit gives the batches of a new iterator per epoch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ser_tf.data.augment import validate_augment_config
from ser_tf.data.pipeline import finish_dataset
from ser_tf.settings.sections import AudioConfig
from ser_tf.training.runner import one_iterator


def _training_dataset(n_clips: int = 12, batch_size: int = 5) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    waves = (0.1 * rng.standard_normal((n_clips, 16000))).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((waves, np.arange(n_clips, dtype=np.int32))).cache()
    augment = validate_augment_config({name: {"enabled": True} for name in ("noise", "shift", "gain", "speed")})
    return finish_dataset(ds, training=True, shuffle_buffer=n_clips, seed=3,
                          audio=AudioConfig(duration=0.5), augment_config=augment, babble_bank=None,
                          batch_size=batch_size)


def test_repeated_epochs_are_the_epochs_of_fresh_iterators():
    ds = _training_dataset()
    fresh = [[(x.numpy(), y.numpy()) for x, y in ds] for _ in range(3)]  # Keras's way: iter() per epoch
    repeated, steps = one_iterator(_training_dataset(), steps=99)
    assert steps == 3  # ceil(12 / 5), from the cardinality rather than the fallback
    batches = iter(repeated)
    for epoch in fresh:
        for x, y in epoch:
            got_x, got_y = next(batches)
            np.testing.assert_array_equal(got_y.numpy(), y)
            np.testing.assert_array_equal(got_x.numpy(), x)
    assert not np.array_equal(fresh[0][0][1], fresh[1][0][1])  # epochs still reshuffle


def test_unknown_cardinality_takes_the_given_steps():
    ds = tf.data.Dataset.range(10).filter(lambda v: v % 2 == 0).batch(2)
    _, steps = one_iterator(ds, steps=3)
    assert steps == 3
