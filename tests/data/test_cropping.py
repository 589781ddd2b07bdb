"""Tests for ser_tf.data.cropping: one crop/pad rule, the same in TensorFlow and NumPy."""

import numpy as np
import pytest
import tensorflow as tf

from ser_tf.data.cropping import center_offset, fix_length, fix_length_numpy
from ser_tf.errors import ParameterError


def test_fix_length():
    x = tf.range(1.0, 8.0)  # 7 samples
    np.testing.assert_array_equal(fix_length(x, 4).numpy(), [2, 3, 4, 5])
    np.testing.assert_array_equal(fix_length(x, 10).numpy(), [0, 1, 2, 3, 4, 5, 6, 7, 0, 0])
    assert fix_length(x, 7).numpy().tolist() == list(range(1, 8))
    seed = tf.constant([1, 2])
    crop = fix_length(x, 3, mode="random", seed=seed).numpy()
    assert crop.shape == (3,) and np.all(np.diff(crop) == 1) and 1 <= crop[0] <= 5
    np.testing.assert_array_equal(crop, fix_length(x, 3, mode="random", seed=seed).numpy())
    starts = {int(fix_length(x, 3, mode="random", seed=[s, 0]).numpy()[0]) for s in range(40)}
    assert starts == {1, 2, 3, 4, 5}  # every offset reachable
    padded = fix_length(x, 9, mode="random", seed=seed).numpy()
    assert np.count_nonzero(padded) == 7 and padded.shape == (9,)
    with pytest.raises(ParameterError, match="'edge'"):
        fix_length(x, 3, mode="edge")
    with pytest.raises(ParameterError, match="seed"):
        fix_length(x, 3, mode="random")
    with pytest.raises(ParameterError, match="0"):
        fix_length(x, 0)


def test_fix_length_numpy_centres_like_the_evaluation_pipeline():
    x = np.arange(1, 6, dtype=np.float32)
    # The odd extra sample goes at the end.
    np.testing.assert_array_equal(fix_length_numpy(x, 8), [0, 1, 2, 3, 4, 5, 0, 0])
    np.testing.assert_array_equal(fix_length_numpy(x, 3), [2, 3, 4])
    np.testing.assert_array_equal(fix_length_numpy(x, 5), x)
    with pytest.raises(ParameterError, match="-1"):
        fix_length_numpy(x, -1)


@pytest.mark.parametrize("samples", [1, 4, 5, 7, 8, 12])
@pytest.mark.parametrize("length", [1, 5, 8])
def test_numpy_and_tensorflow_centre_agree(samples, length):
    x = np.arange(1, samples + 1, dtype=np.float32)
    expected = fix_length(tf.constant(x), length).numpy()
    np.testing.assert_array_equal(fix_length_numpy(x, length), expected)
    # A dynamic length (as in the time-stretch augmentation) gives the same samples.
    np.testing.assert_array_equal(fix_length(tf.constant(x), tf.constant(length)).numpy(), expected)


@pytest.mark.parametrize("samples, length", [(9, 4), (3, 8)])
def test_numpy_offset_reproduces_every_random_tensorflow_placement(samples, length):
    x = np.arange(1, samples + 1, dtype=np.float32)
    span = abs(samples - length)
    by_offset = {k: fix_length_numpy(x, length, offset=k).tolist() for k in range(span + 1)}
    assert len({tuple(v) for v in by_offset.values()}) == span + 1
    drawn = [fix_length(x, length, mode="random", seed=[s, 1]).numpy().tolist() for s in range(60)]
    assert all(d in by_offset.values() for d in drawn)
    assert {tuple(d) for d in drawn} == {tuple(v) for v in by_offset.values()}  # all reachable
    assert by_offset[center_offset(samples, length)] == fix_length(x, length).numpy().tolist()


def test_fix_length_numpy_checks_offset_and_returns_float32():
    x = np.arange(6, dtype=np.int16)
    assert fix_length_numpy(x, 6).dtype == np.float32
    assert fix_length_numpy(x, 4, offset=2).tolist() == [2, 3, 4, 5]
    with pytest.raises(ParameterError, match="offset must lie in \\[0, 2\\].*got 3"):
        fix_length_numpy(x, 4, offset=3)


def test_center_offset_same_for_ints_and_tensors():
    for samples, length in [(7, 4), (4, 7), (10, 3), (5, 5)]:
        assert center_offset(samples, length) == int(center_offset(tf.constant(samples), length))
    assert center_offset(7, 4) == 1 and center_offset(4, 7) == 1 and center_offset(10, 3) == 3


def test_importing_cropping_does_not_load_tensorflow():
    import subprocess
    import sys

    code = "import sys, ser_tf.data.cropping; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
