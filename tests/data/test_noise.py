"""Tests for ser_tf.data.noise: SNR of the mixture measured, babble levels, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from ser_tf.data.noise import babble, mix_at_snr, rms
from ser_tf.errors import ParameterError


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def measured_snr(clean, mixed) -> float:
    clean = np.asarray(clean, np.float64)
    noise = np.asarray(mixed, np.float64) - clean
    return 10 * np.log10(np.mean(clean ** 2) / np.mean(noise ** 2))


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 5.0, 10.0, 20.0, 40.0])
def test_mix_at_snr_measures_the_requested_snr(rng, snr_db):
    t = np.arange(48000) / 16000
    clean = (0.3 * np.sin(2 * np.pi * 220 * t) * (t > 1.0)).astype(np.float32)  # silence, then voice
    noise = rng.standard_normal(len(t)).astype(np.float32) * 3.0  # any level in
    mixed = mix_at_snr(clean, noise, snr_db)
    assert mixed.shape == clean.shape and mixed.dtype == np.float32
    assert measured_snr(clean, mixed) == pytest.approx(snr_db, abs=0.1)


def test_mix_at_snr_with_babble_noise(rng):
    clean = rng.standard_normal(16000).astype(np.float32) * 0.1
    noise = babble([rng.standard_normal(16000) * s for s in (0.01, 0.5, 2.0, 0.2)])
    assert measured_snr(clean, mix_at_snr(clean, noise, 5.0)) == pytest.approx(5.0, abs=0.1)


def test_mix_at_snr_silent_clean_is_returned_unchanged(rng):
    clean = np.zeros(100, np.float32)
    np.testing.assert_array_equal(mix_at_snr(clean, rng.standard_normal(100), 10.0), clean)


@pytest.mark.parametrize("clean, noise, snr_db, match", [
    (np.ones(10), np.ones(9), 5.0, r"\(10,\) and \(9,\)"),
    (np.ones((2, 5)), np.ones((2, 5)), 5.0, r"1-D"),
    (np.ones(10), np.zeros(10), 5.0, r"silent"),
    (np.ones(10), np.full(10, np.nan), 5.0, r"NaN"),
    (np.ones(10), np.ones(10), float("inf"), r"snr_db.*inf"),
    (np.ones(10), np.ones(10), "loud", r"snr_db.*'loud'"),
])
def test_mix_at_snr_rejects_bad_arguments(clean, noise, snr_db, match):
    with pytest.raises(ParameterError, match=match):
        mix_at_snr(clean, noise, snr_db)


def test_babble_gives_each_talker_the_same_level(rng):
    a = np.sin(np.arange(8000) * 0.01) * 0.01
    b = rng.standard_normal(8000) * 5.0
    out = babble([a, b, np.zeros(8000)])  # the silent talker is left out
    assert out.dtype == np.float32 and out.shape == (8000,)
    np.testing.assert_allclose(out, a / rms(a) + b / rms(b), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("talkers, match", [
    ([], r"at least one"),
    ([np.ones(5), np.ones(6)], r"one length"),
    ([np.zeros(5), np.zeros(5)], r"all 2 talkers are silent"),
])
def test_babble_rejects_bad_talkers(talkers, match):
    with pytest.raises(ParameterError, match=match):
        babble(talkers)
