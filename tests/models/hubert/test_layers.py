"""Tests of ser_tf/models/hubert/layers.py: frame arithmetic, masks, normalisation, position conv."""

import keras
import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.models.hubert.layers import (
    ConvPositionEncoding,
    FeatureEncoder,
    FrameMask,
    TimeMasking,
    WaveformNormalization,
    frame_count,
    random_span_mask,
)
from tests.helpers import run_layer_test

KERNELS = [10, 3, 3, 3, 3, 2, 2]
STRIDES = [5, 2, 2, 2, 2, 2, 2]


def _hf_frames(length):
    # transformers' _get_feat_extract_output_lengths, in plain Python.
    for k, s in zip(KERNELS, STRIDES):
        length = (length - k) // s + 1
    return length


@pytest.mark.parametrize("samples", [400, 719, 720, 16000, 48000, 48123])
def test_frame_count_matches_hf_formula_and_conv_output(samples):
    assert frame_count(samples, kernels=KERNELS, strides=STRIDES) == _hf_frames(samples)
    encoder = FeatureEncoder(conv_dims=[4] * 7, conv_kernels=KERNELS, conv_strides=STRIDES)
    out = encoder(np.zeros((1, samples), np.float32))
    assert out.shape == (1, _hf_frames(samples), 4)


def test_frame_count_standard_values():
    assert frame_count(16000, kernels=KERNELS, strides=STRIDES) == 49  # 1 s -> 49 frames of 20 ms
    assert frame_count(48000, kernels=KERNELS, strides=STRIDES) == 149
    assert frame_count(399, kernels=KERNELS, strides=STRIDES) == 0


def test_frame_mask_reproduces_hf_including_too_short_rows():
    frames = _hf_frames(16000)
    lengths = [16000, 8000, 1234, 100]  # the last is too short for one frame
    mask = np.zeros((4, 16000), np.int32)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
    out = FrameMask(conv_kernels=KERNELS, conv_strides=STRIDES)(mask, np.zeros((4, frames, 2), np.float32))
    out = np.asarray(out)
    for row, n in enumerate(lengths):
        # HF: zeros, a 1 at index n_frames - 1 (Python-style negative index), then back-filled.
        expected = np.zeros(frames, np.int32)
        expected[_hf_frames(n) - 1] = 1
        expected = np.flip(np.cumsum(np.flip(expected))).astype(bool)
        np.testing.assert_array_equal(out[row], expected)


def test_waveform_normalization_matches_numpy_over_valid_part(rng):
    x = rng.standard_normal((2, 1000)).astype(np.float32) * 0.3 + 0.1
    mask = np.ones((2, 1000), np.int32)
    mask[1, 600:] = 0
    out = np.asarray(WaveformNormalization()(x, mask))
    for row, n in enumerate([1000, 600]):
        v = x[row, :n]
        np.testing.assert_allclose(out[row, :n], (v - v.mean()) / np.sqrt(v.var() + 1e-7), atol=1e-5)
        assert not out[row, n:].any()


def test_position_conv_kernel_is_weight_normalised_per_tap(rng):
    layer = ConvPositionEncoding(kernel_size=6, groups=2)
    x = rng.standard_normal((1, 9, 8)).astype(np.float32)
    layer(x, np.ones((1, 9), bool))
    v = rng.standard_normal((6, 4, 8)).astype(np.float32)
    g = rng.random(6).astype(np.float32) + 0.5
    layer.weight_v.assign(v)
    layer.weight_g.assign(g)
    kernel = np.asarray(layer.kernel())
    np.testing.assert_allclose(np.linalg.norm(kernel.reshape(6, -1), axis=1), g, rtol=1e-5)
    np.testing.assert_allclose(kernel / np.linalg.norm(kernel.reshape(6, -1), axis=1)[:, None, None],
                               v / np.linalg.norm(v.reshape(6, -1), axis=1)[:, None, None], rtol=1e-5, atol=1e-6)


def test_position_conv_matches_grouped_same_pad_reference(rng):
    """Even kernel: 'same' padding of k//2 each side then the last frame dropped (HF SamePad)."""
    layer = ConvPositionEncoding(kernel_size=4, groups=2)
    x = rng.standard_normal((1, 7, 4)).astype(np.float32)
    mask = np.ones((1, 7), bool)
    mask[0, 5:] = False
    out = np.asarray(layer(x, mask))
    w, b = np.asarray(layer.kernel()), np.asarray(layer.bias)
    x0 = x * mask[..., None]
    padded = np.pad(x0[0], [(2, 2), (0, 0)])
    conv = np.zeros((8, 4), np.float32)
    for t in range(8):  # 7 + 4 - 4 + 1 = 8 outputs before trimming
        for group in range(2):
            cols = slice(2 * group, 2 * group + 2)
            conv[t, cols] = np.einsum("ki,kio->o", padded[t:t + 4, cols], w[:, :, cols])
    conv = conv[:7] + b
    gelu = 0.5 * conv * (1 + np.vectorize(__import__("math").erf)(conv / np.sqrt(2)))
    np.testing.assert_allclose(out[0], x0[0] + gelu, atol=1e-5)


def test_time_masking_replaces_only_given_frames_and_is_off_at_inference(rng):
    layer = TimeMasking(hidden_dim=3, mask_time_prob=0.5, mask_time_length=2)
    x = rng.standard_normal((1, 5, 3)).astype(np.float32)
    frames = np.ones((1, 5), bool)
    spans = np.array([[0, 1, 1, 0, 0]], bool)
    out = np.asarray(layer(x, frames, spans))
    embedding = np.asarray(layer.mask_embedding)
    np.testing.assert_allclose(out[0, 1], embedding)
    np.testing.assert_allclose(out[0, [0, 3, 4]], x[0, [0, 3, 4]])
    np.testing.assert_allclose(np.asarray(layer(x, frames, training=False)), x)


def test_random_span_mask_covers_spans_within_valid_frames():
    frames = np.ones((64, 50), bool)
    frames[:, 40:] = False
    mask = np.asarray(random_span_mask(frames, start_prob=0.08, span=10, seed_generator=keras.random.SeedGenerator(1)))
    assert not mask[:, 40:].any()
    share = mask[:, :40].mean()
    assert 0.3 < share < 0.75, share  # 1 - 0.92**10 ~ 0.57 away from the edges


def test_layers_serialise(tmp_path, rng):
    run_layer_test(
        FeatureEncoder,
        init_kwargs={"conv_dims": [4, 4], "conv_kernels": [10, 3], "conv_strides": [5, 2], "feature_norm": "layer"},
        input_data=rng.standard_normal((2, 200)).astype(np.float32),
        expected_output_shape=(2, 19, 4),
        expected_num_trainable_weights=6,
        tmp_path=tmp_path,
    )


def test_bad_arguments_are_named():
    with pytest.raises(ParameterError, match="feature_norm"):
        FeatureEncoder(conv_dims=[4], conv_kernels=[3], conv_strides=[1], feature_norm="batch")
    with pytest.raises(ParameterError, match="equal length"):
        FeatureEncoder(conv_dims=[4, 4], conv_kernels=[3], conv_strides=[1])
    with pytest.raises(ParameterError, match="divisible"):
        ConvPositionEncoding(kernel_size=4, groups=3)(np.zeros((1, 5, 8), np.float32), np.ones((1, 5), bool))
