"""Tests for ser_tf.inference.denoise: SNR gain on a noisy tone, shapes, silence, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.inference.denoise import denoise

SR = 16000


def tone_in_noise(snr_db: float, seconds: float = 3.0, seed: int = 0):
    """A 150 Hz harmonic tone (26 partials, to 3.9 kHz) in 250 ms bursts every 500 ms, like voiced
    syllables, and white noise ``snr_db`` below its RMS: ``(clean, noisy)``, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    bursts = ((t * 1000) % 500 < 250) & (t > 0.5) & (t < seconds - 0.5)
    clean = 0.06 * sum(np.sin(2 * np.pi * 150 * k * t) / np.sqrt(k) for k in range(1, 27)) * bursts
    rms = np.sqrt(np.mean(clean ** 2))
    noise = rng.standard_normal(len(t)) * rms * 10 ** (-snr_db / 20)
    return clean.astype(np.float32), (clean + noise).astype(np.float32)


def si_snr(clean, estimate) -> float:
    """Scale-invariant SNR in dB (the estimate's best scaling of ``clean`` is the signal): the
    gate lowers the speech's level a little too, which a plain SNR would count as noise."""
    clean, estimate = np.asarray(clean, np.float64), np.asarray(estimate, np.float64)
    target = clean * np.dot(clean, estimate) / np.dot(clean, clean)
    return 10 * np.log10(np.sum(target ** 2) / np.sum((estimate - target) ** 2))


def test_denoise_raises_the_snr_of_a_noisy_tone():
    clean, noisy = tone_in_noise(5.0)
    before = si_snr(clean, noisy)
    assert before == pytest.approx(5.0, abs=0.2)
    for prop_decrease in (1.0, 0.8):
        after = si_snr(clean, denoise(noisy, sample_rate=SR, prop_decrease=prop_decrease))
        assert after > before + 2.0, (prop_decrease, before, after)  # measured: +4.0 and +2.6 dB


@pytest.mark.parametrize("stationary", [False, True])
def test_denoise_attenuates_the_noise_between_bursts(stationary):
    _, noisy = tone_in_noise(5.0)
    out = denoise(noisy, sample_rate=SR, stationary=stationary, prop_decrease=1.0)
    gap = slice(0, SR // 3)  # noise only
    ratio_db = 20 * np.log10(np.std(out[gap]) / np.std(noisy[gap]))
    assert ratio_db < -6.0, ratio_db


def test_denoise_keeps_length_dtype_and_range():
    _, noisy = tone_in_noise(5.0, seconds=1.234)
    out = denoise(noisy.astype(np.float64), sample_rate=SR)
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert np.all(np.abs(out) <= 1.0)


def test_prop_decrease_zero_is_nearly_identity():
    _, noisy = tone_in_noise(5.0, seconds=1.0)
    out = denoise(noisy, sample_rate=SR, prop_decrease=0.0)
    np.testing.assert_allclose(out, noisy, atol=1e-4)


@pytest.mark.parametrize("stationary", [False, True])
def test_silence_in_finite_out(stationary):
    out = denoise(np.zeros(SR, np.float32), sample_rate=SR, stationary=stationary)
    np.testing.assert_array_equal(out, np.zeros(SR, np.float32))
    quiet = np.zeros(SR, np.float32)
    quiet[8000] = 1e-6  # one sample: most STFT frames are still all zeros
    assert np.all(np.isfinite(denoise(quiet, sample_rate=SR, stationary=stationary)))


@pytest.mark.parametrize("x, kwargs, match", [
    (np.zeros((2, SR)), {}, r"mono.*\(2, 16000\)"),
    (np.zeros(100), {}, r"100 samples.*n_fft=1024"),
    (np.full(SR, np.nan), {}, r"NaN"),
    (np.zeros(SR), {"sample_rate": 0}, r"sample_rate.*0"),
    (np.zeros(SR), {"sample_rate": 16000.0}, r"sample_rate.*16000.0"),
    (np.zeros(SR), {"prop_decrease": 1.5}, r"prop_decrease.*1.5"),
    (np.zeros(SR), {"time_constant_s": -1.0}, r"time_constant_s.*-1.0"),
    (np.zeros(SR), {"n_fft": 16}, r"n_fft.*16"),
])
def test_bad_arguments_are_rejected(x, kwargs, match):
    kwargs = {"sample_rate": SR, **kwargs}
    with pytest.raises(ParameterError, match=match):
        denoise(x, **kwargs)


def test_import_is_lazy():
    import subprocess
    import sys
    code = ("import sys, ser_tf.inference.denoise; "
            "print('noisereduce' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
