"""Tests for ser_tf.data.augment: transforms measured on sines, lengths, seeds, config checks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from ser_tf.data.augment import (
    TRANSFORMS,
    add_babble,
    add_noise,
    add_noise_at_snr,
    apply_gain,
    augment_waveform,
    bandpass,
    pitch_shift,
    speed_perturb,
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


def bank(n: int, rows: int = 8) -> np.ndarray:
    """A babble bank of ``rows`` distinct tones of RMS 1 (``n`` samples each)."""
    t = np.arange(n) / SR
    tones = np.stack([np.sin(2 * np.pi * (150.0 + 97.0 * r) * t) for r in range(rows)])
    return (tones / np.sqrt(np.mean(tones ** 2, axis=1, keepdims=True))).astype(np.float32)


def test_augment_waveform_preserves_length_dtype_and_range():
    x = sine(220.0, 0.75, amp=0.99)
    for seed in range(3):
        y = augment_waveform(x, augment_config=all_on(), seed=[seed, 0], babble_bank=bank(len(x)))
        assert y.shape == x.shape and y.dtype == tf.float32
        assert float(tf.reduce_max(tf.abs(y))) <= 1.0
        assert not np.allclose(y.numpy(), x)


def test_augment_waveform_is_deterministic_and_runs_in_a_graph():
    x = sine(220.0, 0.5)
    fn = tf.function(lambda x, s: augment_waveform(x, augment_config=all_on(0.5), seed=s,
                                                   babble_bank=bank(x.shape[0])), autograph=False)
    a = fn(x, tf.constant([5, 6]))
    b = fn(x, tf.constant([5, 6]))
    c = fn(x, tf.constant([5, 7]))
    assert a.shape == x.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())


def test_disabled_or_zero_probability_is_identity():
    x = sine(220.0, 0.25)
    for cfg in ({}, all_on(0.0), {"noise": {"enabled": False}}):
        y = augment_waveform(x, augment_config=cfg, seed=[0, 0], babble_bank=bank(len(x)))
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
    ("noise", {"snr_db": [15.0, 5.0]}, r"augment.noise.snr_db.*min <= max.*\[15.0, 5.0\]"),
    ("noise", {"snr_db": [5.0]}, r"augment.noise.snr_db.*\[5.0\]"),
    ("noise", {"snr_db": "loud"}, r"augment.noise.snr_db.*'loud'"),
    ("noise", {"snr_db": [float("nan"), 5.0]}, r"augment.noise.snr_db.*finite.*nan"),
    ("noise", {"snr_db": [5.0, float("inf")]}, r"augment.noise.snr_db.*finite.*inf"),
    ("speed", {"min_rate": 1.2, "max_rate": 1.1}, r"augment.speed.min_rate \(1.2\)"),
    ("speed", {"min_rate": -0.9}, r"augment.speed.min_rate.*> 0.*-0.9"),
    ("gain", {"min_db": 6.0, "max_db": -6.0}, r"augment.gain.min_db \(6.0\) must be <= max_db"),
    ("gain", {"max_db": float("inf")}, r"augment.gain.max_db.*finite.*inf"),
    ("gain", {"max_db": "loud"}, r"augment.gain.max_db.*'loud'"),
    ("babble", {"snr_db": [25.0, 5.0]}, r"augment.babble.snr_db.*min <= max.*\[25.0, 5.0\]"),
    ("babble", {"snr_db": [5.0, float("nan")]}, r"augment.babble.snr_db.*finite.*nan"),
    ("babble", {"snr_db": None}, r"augment.babble.snr_db.*None"),
    ("babble", {"talkers": [0, 3]}, r"augment.babble.talkers.*>= 1.*0"),
    ("babble", {"talkers": [4, 2]}, r"augment.babble.talkers.*min <= max.*\[4, 2\]"),
    ("babble", {"talkers": [2.5, 3]}, r"augment.babble.talkers.*2.5"),
    ("babble", {"talkers": [3]}, r"augment.babble.talkers.*\[3\]"),
    ("babble", {"bank_size": 4}, r"augment.babble.bank_size.*>= 6.*4"),
    ("babble", {"bank_size": 8.0}, r"augment.babble.bank_size.*8.0"),
])
def test_validate_augment_config_errors_name_the_key(section, bad, match):
    with pytest.raises(ConfigError, match=match):
        validate_augment_config({section: {"enabled": True, **bad}})


# --- speed, gain, noise at an SNR ------------------------------------------------------------------

def snr_db(clean, noisy) -> float:
    clean, noisy = np.asarray(clean, np.float64), np.asarray(noisy, np.float64)
    return 10.0 * np.log10(np.mean(clean ** 2) / np.mean((noisy - clean) ** 2))


@pytest.mark.parametrize("target", [0.0, 5.0, 20.0])
def test_add_noise_at_snr_measures_the_requested_snr(target):
    x = sine(300.0, amp=0.3)
    y = add_noise_at_snr(x, snr_db=target, seed=[3, 4]).numpy()
    assert y.shape == x.shape and y.dtype == np.float32
    assert snr_db(x, y) == pytest.approx(target, abs=0.15)  # 16000 samples: ~0.05 dB of chance
    np.testing.assert_array_equal(y, add_noise_at_snr(x, snr_db=target, seed=[3, 4]).numpy())


def test_add_noise_at_snr_leaves_silence_silent():
    x = np.zeros(SR, np.float32)
    np.testing.assert_array_equal(add_noise_at_snr(x, snr_db=10.0, seed=[1, 2]).numpy(), x)
    cfg = {"noise": {"enabled": True, "p": 1.0, "snr_db": [5.0, 10.0]}}
    np.testing.assert_array_equal(augment_waveform(x, augment_config=cfg, seed=[1, 2]).numpy(), x)


def test_augment_noise_snr_is_drawn_in_the_range():
    x = sine(300.0, amp=0.3)
    cfg = {"noise": {"enabled": True, "p": 1.0, "snr_db": [5.0, 15.0], "stddev": 1.0}}  # stddev unused
    measured = [snr_db(x, augment_waveform(x, augment_config=cfg, seed=[s, 9]).numpy())
                for s in range(8)]
    assert all(4.85 <= m <= 15.15 for m in measured), measured
    assert max(measured) - min(measured) > 2.0  # drawn per seed, not fixed


def test_apply_gain_and_augment_gain_range():
    x = sine(300.0, amp=0.1)
    np.testing.assert_allclose(apply_gain(x, db=6.0).numpy(), x * 10 ** 0.3, rtol=1e-6)
    np.testing.assert_allclose(apply_gain(x, db=-20.0).numpy(), x * 0.1, rtol=1e-6)
    cfg = {"gain": {"enabled": True, "p": 1.0, "min_db": -6.0, "max_db": 6.0}}
    gains = [20 * np.log10(np.abs(augment_waveform(x, augment_config=cfg, seed=[s, 0]).numpy()).max()
                           / np.abs(x).max()) for s in range(10)]
    assert all(-6.001 <= g <= 6.001 for g in gains), gains
    assert max(gains) - min(gains) > 3.0


def test_gain_is_clipped_to_full_scale():
    x = sine(300.0, amp=0.9)
    cfg = {"gain": {"enabled": True, "p": 1.0, "min_db": 6.0, "max_db": 6.0}}
    y = augment_waveform(x, augment_config=cfg, seed=[0, 0]).numpy()
    assert np.abs(y).max() == 1.0


@pytest.mark.parametrize("rate", [0.9, 1.1])
def test_speed_perturb_changes_length_and_pitch_together(rate):
    x = sine(440.0)
    y = speed_perturb(x, rate=rate).numpy()
    assert y.shape == (round(SR / rate),) and y.dtype == np.float32
    assert dominant_hz(y) == pytest.approx(440.0 * rate, rel=2e-3)  # pitch moves with the tempo
    assert np.abs(y[2000:-2000]).max() == pytest.approx(0.5, abs=0.02)  # level kept


def test_speed_perturb_bad_rate_and_augment_keeps_length():
    with pytest.raises(ParameterError, match="0.0"):
        speed_perturb(sine(440.0, 0.1), rate=0.0)
    x = sine(440.0, 0.75)
    for lo, hi in ((0.9, 0.9), (1.1, 1.1)):
        cfg = {"speed": {"enabled": True, "p": 1.0, "min_rate": lo, "max_rate": hi}}
        y = augment_waveform(x, augment_config=cfg, seed=[1, 1]).numpy()
        assert y.shape == x.shape
        assert dominant_hz(y[2000:-2000]) == pytest.approx(440.0 * lo, rel=5e-3)


def test_new_transforms_are_deterministic_for_a_seed():
    x = sine(220.0, 0.5, amp=0.3)
    cfg = {"speed": {"enabled": True, "p": 1.0}, "gain": {"enabled": True, "p": 1.0},
           "noise": {"enabled": True, "p": 1.0, "snr_db": [5.0, 20.0]}}
    fn = tf.function(lambda x, s: augment_waveform(x, augment_config=cfg, seed=s), autograph=False)
    a, b, c = (fn(x, tf.constant(s)).numpy() for s in ([5, 6], [5, 6], [5, 7]))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# The five original transforms' outputs, recorded with the code before speed and gain existed
# (commit dabb1e5): the new seed slots must not move their draws.
LEGACY = ("stretch", "pitch", "bandpass", "shift", "noise")
RECORDED = {  # seed: (sum of squares, y[1000:1003])
    0: (0.2716063857078552, [-0.002744, -0.001249, -0.003245]),
    1: (987.7833251953125, [0.480391, 0.465975, 0.447902]),
    2: (1000.0001220703125, [-0.5, -0.498135, -0.492555]),
    3: (885.7908935546875, [0.392651, 0.364477, 0.333584]),
}


@pytest.mark.parametrize("with_new", [False, True])
def test_existing_transforms_draw_as_before(with_new):
    x = sine(220.0, 0.5)
    cfg = {name: {"enabled": True, "p": 0.5} for name in LEGACY}
    if with_new:  # switched on at identity settings: they must not change the others' draws
        cfg["speed"] = {"enabled": True, "p": 1.0, "min_rate": 1.0, "max_rate": 1.0}
        cfg["gain"] = {"enabled": True, "p": 1.0, "min_db": 0.0, "max_db": 0.0}
        cfg["babble"] = {"enabled": True, "p": 0.0}  # drawn (gate and parameters), never applied
    for seed, (energy, head) in RECORDED.items():
        y = augment_waveform(x, augment_config=cfg, seed=[seed, 3],
                             babble_bank=bank(len(x))).numpy()
        assert float(np.sum(y.astype(np.float64) ** 2)) == pytest.approx(energy, rel=1e-4, abs=1e-4)
        np.testing.assert_allclose(y[1000:1003], head, atol=1e-4)


# --- babble ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("target,talkers", [(0.0, 1), (5.0, 3), (20.0, 6)])
def test_add_babble_measures_the_requested_snr(target, talkers):
    x = sine(300.0, amp=0.3)
    y = add_babble(x, bank=bank(len(x)), talkers=talkers, snr_db=target, seed=[3, 4]).numpy()
    assert y.shape == x.shape and y.dtype == np.float32
    assert snr_db(x, y) == pytest.approx(target, abs=1e-3)  # scaled to the babble's measured RMS
    np.testing.assert_array_equal(
        y, add_babble(x, bank=bank(len(x)), talkers=talkers, snr_db=target, seed=[3, 4]).numpy())


def test_add_babble_shifts_the_talkers_and_follows_the_seed():
    # One talker from a one-row bank: the babble is that row, circularly shifted (different seeds,
    # different shifts), scaled to the SNR.
    x = sine(300.0, 0.25, amp=0.3)
    row = np.random.default_rng(0).standard_normal((1, len(x))).astype(np.float32)
    row /= np.sqrt(np.mean(row ** 2))
    babbles = [add_babble(x, bank=row, talkers=1, snr_db=0.0, seed=[s, 0]).numpy() - x
               for s in range(3)]
    scale = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    shifts = []
    for b in babbles:
        matches = [k for k in range(len(x)) if np.allclose(b, scale * np.roll(row[0], k), atol=1e-5)]
        assert len(matches) == 1
        shifts.append(matches[0])
    assert len(set(shifts)) == 3, shifts


def test_add_babble_leaves_silence_silent_and_checks_the_bank():
    x = np.zeros(SR // 4, np.float32)
    np.testing.assert_array_equal(
        add_babble(x, bank=bank(len(x)), talkers=3, snr_db=10.0, seed=[1, 2]).numpy(), x)
    cfg = {"babble": {"enabled": True, "p": 1.0}}
    y = augment_waveform(x, augment_config=cfg, seed=[1, 2], babble_bank=bank(len(x)))
    np.testing.assert_array_equal(y.numpy(), x)
    with pytest.raises(ParameterError, match="2000 samples but the example has 4000"):
        add_babble(x, bank=bank(2000), talkers=1, snr_db=0.0, seed=[0, 0])
    with pytest.raises(ConfigError, match="augment.babble.enabled needs a bank"):
        augment_waveform(x, augment_config=cfg, seed=[1, 2])


def test_augment_babble_snr_is_drawn_in_the_range_and_is_deterministic():
    x = sine(300.0, 0.5, amp=0.3)
    cfg = {"babble": {"enabled": True, "p": 1.0, "snr_db": [5.0, 15.0], "talkers": [2, 4],
                      "bank_size": 8}}
    fn = tf.function(lambda s: augment_waveform(x, augment_config=cfg, seed=s,
                                                babble_bank=bank(len(x))), autograph=False)
    outs = [fn(tf.constant([s, 9])).numpy() for s in range(8)]
    measured = [snr_db(x, y) for y in outs]
    assert all(4.99 <= m <= 15.01 for m in measured), measured
    assert max(measured) - min(measured) > 2.0  # drawn per seed, not fixed
    np.testing.assert_array_equal(outs[0], fn(tf.constant([0, 9])).numpy())


def test_babble_defaults_come_from_the_settings():
    out = validate_augment_config({"babble": {"enabled": True}})
    assert out == {"babble": {"enabled": True, "p": 0.5, "snr_db": (5.0, 25.0), "talkers": (3, 6),
                              "bank_size": 64}}
    assert validate_augment_config(out) == out
    assert TRANSFORMS.index("babble") == TRANSFORMS.index("noise") - 1  # babble, then mic noise
