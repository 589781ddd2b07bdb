"""Slaney-style mel filterbank in NumPy, equal to ``librosa.filters.mel(htk=False, norm="slaney")``.

Computed once when a front-end layer is built and baked into the graph as a constant, so the saved
model needs neither librosa nor the filterbank values in its weights. librosa is used only by the
tests, to check these functions to 1e-6.
"""

from __future__ import annotations

import numpy as np

from ser_tf.errors import ParameterError
from ser_tf.utils.checks import number_at_least, positive_int

# Slaney's Auditory Toolbox mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above
# (27 mels per factor 6.4 in frequency). These are librosa's constants for ``htk=False``.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(frequencies, *, htk: bool = False) -> np.ndarray:
    """Frequencies in Hz -> mels (Slaney scale, or HTK's ``2595 log10(1 + f/700)`` if ``htk``)."""
    f = np.asanyarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    mels = f / _F_SP
    log_region = f >= _MIN_LOG_HZ
    # np.maximum keeps log() away from zeros in the linear region that np.where evaluates anyway.
    log_mels = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(log_region, log_mels, mels)


def mel_to_hz(mels, *, htk: bool = False) -> np.ndarray:
    """Mels -> frequencies in Hz; the inverse of ``hz_to_mel`` with the same ``htk``."""
    m = np.asanyarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    freqs = _F_SP * m
    log_freqs = _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, log_freqs, freqs)


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    slaney_norm: bool = True,
    dtype=np.float32,
) -> np.ndarray:
    """Triangular mel filters over the ``1 + n_fft // 2`` bins of a real FFT.

    Args:
        sample_rate: sampling rate in Hz (> 0).
        n_fft: FFT length in samples (> 0).
        n_mels: number of mel bands (> 0).
        fmin: lowest band edge in Hz, in ``[0, fmax)``.
        fmax: highest band edge in Hz, in ``(fmin, sample_rate / 2]``; ``None`` means Nyquist.
        htk: use the HTK mel formula instead of Slaney's.
        slaney_norm: divide each triangle by its width in Hz (``norm="slaney"``: constant energy
            per band), as librosa does by default.
        dtype: dtype of the returned matrix.

    Returns:
        ``(n_mels, 1 + n_fft // 2)`` matrix; ``mel_power = weights @ power_spectrum``.

    Raises:
        ParameterError: a size or frequency is out of range (the message repeats it).
    """
    for name, value in (("sample_rate", sample_rate), ("n_fft", n_fft), ("n_mels", n_mels)):
        positive_int(value, name=name)
    nyquist = sample_rate / 2.0
    fmin = number_at_least(fmin, name="fmin (Hz)", low=0.0)
    fmax = nyquist if fmax is None else number_at_least(fmax, name="fmax (Hz)", low=0.0)
    if not fmin < fmax <= nyquist:
        raise ParameterError(
            f"need 0 <= fmin < fmax <= sample_rate/2 = {nyquist:g} Hz, got fmin={fmin!r}, "
            f"fmax={fmax!r}"
        )
    n_bins = 1 + int(n_fft) // 2
    fft_freqs = np.linspace(0.0, nyquist, n_bins)
    # n_mels + 2 points equally spaced in mel: band i rises from edge i to i+1, falls to i+2.
    mel_edges = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), int(n_mels) + 2)
    hz_edges = mel_to_hz(mel_edges, htk=htk)
    widths = np.diff(hz_edges)
    ramps = hz_edges[:, None] - fft_freqs[None, :]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked just below
        lower = -ramps[:-2] / widths[:-1, None]
        upper = ramps[2:] / widths[1:, None]
        weights = np.maximum(0.0, np.minimum(lower, upper))
        if slaney_norm:
            weights *= (2.0 / (hz_edges[2:] - hz_edges[:-2]))[:, None]
    if not np.isfinite(weights.astype(dtype)).all():
        # Bands narrower than float round-off (fmax=1e-313 Hz, found by fuzzing): NaN features.
        raise ParameterError(
            f"fmin={fmin!r} to fmax={fmax!r} Hz is too narrow for {n_mels} mel bands "
            "(the filters' widths round to zero)"
        )
    return weights.astype(dtype)
