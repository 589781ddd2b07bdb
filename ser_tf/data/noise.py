"""Mix noise into clean speech at a chosen SNR (NumPy; for robustness benchmarks and tests).

The SNR is measured over whole arrays: ``snr_db = 10 log10(mean(clean**2) / mean(noise**2))``
after the noise is scaled. :func:`mix_at_snr` does that scaling; :func:`babble` builds multi-talker
noise from several clips, each brought to the same RMS first so that no talker dominates.
Nothing here clips the result to [-1, 1]: at the SNRs of interest a full-scale clip is rare, and
clipping would change the SNR it reports; the caller decides.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ser_tf.errors import ParameterError

__all__ = ["rms", "mix_at_snr", "babble"]


def rms(x) -> float:
    """Root mean square of ``x`` (waveform units), as a Python float; 0.0 for an empty array."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def mix_at_snr(clean, noise, snr_db: float) -> np.ndarray:
    """``clean + g * noise`` with ``g`` chosen so that the mixture's SNR is ``snr_db``.

    Args:
        clean: ``(samples,)`` waveform.
        noise: ``(samples,)`` waveform of the same length, not silent.
        snr_db: the SNR in dB of ``clean`` over the scaled noise (finite; any sign).

    Returns:
        float32 ``(samples,)``, not clipped. A silent ``clean`` (RMS 0) is returned unchanged:
        there is no level to be relative to.

    Raises:
        ParameterError: shapes that differ or are not 1-D, a silent or non-finite noise, or a
            non-finite ``snr_db``.
    """
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    if clean.ndim != 1 or noise.shape != clean.shape:
        raise ParameterError(f"mix_at_snr: clean and noise must be 1-D of one length, got shapes "
                             f"{clean.shape} and {noise.shape}")
    if not isinstance(snr_db, (int, float, np.number)) or not math.isfinite(snr_db):
        raise ParameterError(f"mix_at_snr: snr_db must be a finite number, got {snr_db!r}")
    if not np.all(np.isfinite(noise)):
        raise ParameterError("mix_at_snr: noise holds NaN or infinite samples")
    noise_rms = rms(noise)
    if noise_rms == 0.0:
        raise ParameterError("mix_at_snr: noise is silent (RMS 0); no level can be set")
    gain = rms(clean) / noise_rms * 10.0 ** (-float(snr_db) / 20.0)
    return (clean + gain * noise).astype(np.float32)


def babble(talkers: Sequence[np.ndarray]) -> np.ndarray:
    """Multi-talker babble: the sum of ``talkers``, each first scaled to RMS 1.

    Args:
        talkers: one or more ``(samples,)`` waveforms of one length (silent ones are left out).

    Returns:
        float32 ``(samples,)``; scale it with :func:`mix_at_snr`.

    Raises:
        ParameterError: no talker, lengths that differ, or every talker silent.
    """
    talkers = [np.asarray(t, dtype=np.float64) for t in talkers]
    if not talkers:
        raise ParameterError("babble: needs at least one talker")
    shapes = {t.shape for t in talkers}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ParameterError(f"babble: talkers must be 1-D of one length, got shapes {sorted(shapes)}")
    voiced = [t / rms(t) for t in talkers if rms(t) > 0.0]
    if not voiced:
        raise ParameterError(f"babble: all {len(talkers)} talkers are silent")
    return np.sum(voiced, axis=0).astype(np.float32)
