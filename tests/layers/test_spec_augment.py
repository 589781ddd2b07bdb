"""ser_tf.layers.spec_augment: identity at inference, contiguous bands in training."""

import numpy as np
import pytest
import tensorflow as tf

from ser_tf.errors import ParameterError
from ser_tf.layers.spec_augment import SpecAugment
from tests.helpers import run_layer_test


def _features(rng, batch=4, frames=50, bins=16):
    # Strictly positive, so a 0.0 cell can only come from a mask.
    return rng.uniform(0.1, 1.0, (batch, frames, bins)).astype(np.float32)


def test_identity_at_inference(rng):
    x = _features(rng)
    layer = SpecAugment(time_masks=3, time_width=10, freq_masks=3, freq_width=4)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_training_masks_whole_bands(rng):
    x = _features(rng, batch=16)
    layer = SpecAugment(time_masks=1, time_width=10, freq_masks=1, freq_width=4, seed=3)
    out = layer(x, training=True).numpy()
    assert out.shape == x.shape
    masked = out == 0.0
    assert masked.any(), "with 16 examples, some mask must have non-zero width"
    np.testing.assert_array_equal(out[~masked], x[~masked])  # the rest is untouched
    for example in masked:
        time_rows = np.flatnonzero(example.all(axis=1))  # frames masked across every bin
        freq_cols = np.flatnonzero(example.all(axis=0))  # bins masked across every frame
        # One band of each kind: contiguous and within the configured widths.
        assert len(time_rows) <= 10 and len(freq_cols) <= 4
        for band in (time_rows, freq_cols):
            if len(band):
                assert band[-1] - band[0] + 1 == len(band)
        # Every masked cell belongs to a masked frame or a masked bin.
        covered = np.zeros_like(example)
        covered[time_rows, :] = True
        covered[:, freq_cols] = True
        np.testing.assert_array_equal(example, covered)


def test_masks_differ_across_examples_and_calls(rng):
    x = np.ones((8, 40, 16), np.float32)
    layer = SpecAugment(time_masks=2, time_width=10, freq_masks=2, freq_width=6, seed=0)
    first = layer(x, training=True).numpy()
    second = layer(x, training=True).numpy()
    assert not np.array_equal(first, second)
    assert len({first[i].tobytes() for i in range(8)}) > 1


def test_runs_in_graph_mode_with_unknown_shapes(rng):
    layer = SpecAugment(time_masks=2, time_width=4, freq_masks=1, freq_width=2, seed=1)
    masked = tf.function(
        lambda x: layer(x, training=True),
        input_signature=[tf.TensorSpec([None, None, None], tf.float32)],
    )
    x = _features(rng, batch=3, frames=30, bins=10)
    out = masked(tf.constant(x)).numpy()
    assert out.shape == x.shape and (out == 0.0).any()
    assert masked(tf.constant(_features(rng, batch=1, frames=7, bins=5))).shape == (1, 7, 5)


def test_width_larger_than_axis_is_clipped(rng):
    x = _features(rng, frames=5, bins=3)
    out = SpecAugment(time_masks=2, time_width=50, freq_masks=2, freq_width=50)(x, training=True)
    assert out.shape == x.shape


def test_layer_config_and_saving(rng, tmp_path):
    run_layer_test(
        SpecAugment,
        init_kwargs={"time_masks": 1, "time_width": 5, "freq_masks": 2, "freq_width": 3,
                     "mask_value": -1.0, "seed": 7},
        input_data=_features(rng, batch=2, frames=12, bins=8),
        expected_output_shape=(2, 12, 8),
        expected_num_trainable_weights=0,
        tmp_path=tmp_path,
    )


def test_rejects_negative_counts():
    with pytest.raises(ParameterError, match="time_masks.*-1"):
        SpecAugment(time_masks=-1)
