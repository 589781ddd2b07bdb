"""Tests for ser_tf.data.augment: transforms measured on sines, lengths, seeds, config checks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from ser_tf.data.augment import (
    TRANSFORMS,
    add_noise,
    augment_waveform,
    bandpass,
    pitch_shift,
    time_shift,
    time_stretch,
    validate_augment_config,
)
from ser_tf.errors import ConfigError, ParameterError

SR = 16000


def sine(freq: float, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(x) -> float:
    """Peak of the zero-padded, windowed spectrum (resolution ~0.1 Hz for a 1 s clip)."""
    x = np.asarray(x, np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 16 * len(x)))
    return float(np.argmax(spectrum)) * SR / (16 * len(x))


@pytest.mark.parametrize("semitones", [-2.0, -0.5, 1.0, 2.0])
def test_pitch_shift_moves_f0_by_the_ratio_and_keeps_duration(semitones):
    x = sine(440.0)
    y = pitch_shift(x, semitones=semitones).numpy()
    assert y.shape == x.shape and y.dtype == np.float32
    expected = 440.0 * 2.0 ** (semitones / 12.0)
    assert dominant_hz(y) == pytest.approx(expected, rel=2e-3)
    # The level is kept (the phase vocoder keeps partials coherent): steady-state peak ~0.5.
    assert np.abs(y[2000:-2000]).max() == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("rate", [0.8, 0.9, 1.1, 1.25])
def test_time_stretch_changes_duration_by_the_rate_and_keeps_pitch(rate):
    x = sine(300.0)
    y = time_stretch(x, rate=rate).numpy()
    assert y.shape == (round(len(x) / rate),)
    assert dominant_hz(y) == pytest.approx(300.0, rel=2e-3)
    assert np.abs(y[2000:-2000]).max() == pytest.approx(0.5, abs=0.03)


def test_time_stretch_identity_and_bad_rate():
    x = sine(300.0, 0.5)
    np.testing.assert_allclose(time_stretch(x, rate=1.0).numpy(), x, atol=1e-3)  # float32 phases
    with pytest.raises(ParameterError, match="-0.5"):
        time_stretch(x, rate=-0.5)


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_time_stretch_moves_events_to_t_over_rate(rate):
    # Tone bursts at 0.25, 0.5 and 0.75 s: after the stretch their energy centroids sit at t / rate
    # (to within the vocoder's transient smearing, < 20 ms), far from where they started.
    x = np.zeros(SR, np.float32)
    burst = sine(500.0, 0.05) * np.hanning(800).astype(np.float32)
    for t in (4000, 8000, 12000):
        x[t - 400:t + 400] = burst
    energy = time_stretch(x, rate=rate).numpy() ** 2
    for t in (4000, 8000, 12000):
        lo = int(t / rate) - 1500
        window = energy[lo:lo + 3000]
        centroid = lo + np.arange(3000) @ window / window.sum()
        assert abs(centroid - t / rate) < 320, (t, centroid)


def test_time_shift_fills_with_zeros_not_wrap():
    x = tf.range(1.0, 6.0)
    np.testing.assert_array_equal(time_shift(x, shift=2).numpy(), [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(time_shift(x, shift=-2).numpy(), [3, 4, 5, 0, 0])
    np.testing.assert_array_equal(time_shift(x, shift=0).numpy(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(time_shift(x, shift=9).numpy(), [0, 0, 0, 0, 0])


def test_bandpass_keeps_the_band_and_removes_the_rest():
    x = sine(100.0) + sine(1000.0) + sine(7000.0)
    y = bandpass(x, low_hz=300.0, high_hz=3400.0).numpy()
    assert y.shape == x.shape
    np.testing.assert_allclose(y, sine(1000.0), atol=1e-4)  # integer cycles: exact FFT bins


def test_add_noise_has_the_requested_level_and_follows_the_seed():
    x = np.zeros(SR, np.float32)
    y = add_noise(x, stddev=0.005, seed=[1, 2]).numpy()
    assert np.std(y) == pytest.approx(0.005, rel=0.05)
    np.testing.assert_array_equal(y, add_noise(x, stddev=0.005, seed=[1, 2]).numpy())


def all_on(p=1.0):
    return {name: {"enabled": True, "p": p} for name in TRANSFORMS}


def test_augment_waveform_preserves_length_dtype_and_range():
    x = sine(220.0, 0.75, amp=0.99)
    for seed in range(3):
        y = augment_waveform(x, augment_config=all_on(), seed=[seed, 0])
        assert y.shape == x.shape and y.dtype == tf.float32
        assert float(tf.reduce_max(tf.abs(y))) <= 1.0
        assert not np.allclose(y.numpy(), x)


def test_augment_waveform_is_deterministic_and_runs_in_a_graph():
    x = sine(220.0, 0.5)
    fn = tf.function(lambda x, s: augment_waveform(x, augment_config=all_on(0.5), seed=s),
                     autograph=False)
    a = fn(x, tf.constant([5, 6]))
    b = fn(x, tf.constant([5, 6]))
    c = fn(x, tf.constant([5, 7]))
    assert a.shape == x.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())


def test_disabled_or_zero_probability_is_identity():
    x = sine(220.0, 0.25)
    for cfg in ({}, all_on(0.0), {"noise": {"enabled": False}}):
        y = augment_waveform(x, augment_config=cfg, seed=[0, 0])
        np.testing.assert_array_equal(y.numpy(), x)


def test_probability_is_respected():
    # Noise with p=0.5 on silence: about half of the seeds change the clip.
    x = np.zeros(64, np.float32)
    cfg = {"noise": {"enabled": True, "p": 0.5, "stddev": 0.1}}
    fn = tf.function(lambda s: augment_waveform(x, augment_config=cfg, seed=s), autograph=False)
    hits = sum(bool(tf.reduce_any(fn(tf.constant([s, 1])) != 0)) for s in range(200))
    assert 70 <= hits <= 130


def test_validate_augment_config_reads_base_yaml_sections():
    cfg = {
        "noise": {"enabled": True, "stddev": 0.005},
        "shift": {"enabled": True, "max_seconds": 0.1},
        "pitch": {"enabled": False, "max_semitones": 2.0},
        "stretch": {"enabled": True, "min_rate": 0.9, "max_rate": 1.1, "p": 0.25},
        "bandpass": {"enabled": True, "low_hz": [50.0, 300.0], "high_hz": [3400.0, 7600.0]},
        "specaugment": {"enabled": True, "time_masks": 2},  # a model layer: ignored here
    }
    out = validate_augment_config(cfg)
    assert list(out) == ["stretch", "bandpass", "shift", "noise"]
    assert out["stretch"]["p"] == 0.25 and out["noise"]["p"] == 0.5
    assert out["bandpass"]["low_hz"] == (50.0, 300.0)
    assert validate_augment_config(out) == out  # idempotent


@pytest.mark.parametrize("section,bad,match", [
    ("noise", {"stddev": "loud"}, r"augment.noise.stddev.*'loud'"),
    ("noise", {"p": 1.5}, r"augment.noise.p.*1.5"),
    ("stretch", {"min_rate": 1.2, "max_rate": 1.1}, r"min_rate \(1.2\)"),
    ("stretch", {"min_rate": 0.0}, r"augment.stretch.min_rate.*> 0"),
    ("bandpass", {"low_hz": [50.0]}, r"augment.bandpass.low_hz.*\[50.0\]"),
    ("bandpass", {"high_hz": [3400.0, 9000.0]}, r"8000.0 Hz.*9000"),
    ("bandpass", {"low_hz": [50.0, 4000.0]}, r"must lie below"),
])
def test_validate_augment_config_errors_name_the_key(section, bad, match):
    with pytest.raises(ConfigError, match=match):
        validate_augment_config({section: {"enabled": True, **bad}})
