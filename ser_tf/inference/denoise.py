"""Noise reduction before classification: spectral gating with the ``noisereduce`` library.

:func:`denoise` wraps ``noisereduce.reduce_noise`` (Sainburg et al., MIT licence, pinned in
requirements.txt) for one mono clip: it estimates a noise floor per frequency from the clip itself
-- over the whole clip (``stationary=True``: a fixed threshold, suits steady hum or hiss) or as a
running average over ``time_constant_s`` (``stationary=False``: follows noise that changes, such
as babble) -- and attenuates the STFT bins that do not rise above it by ``prop_decrease``.

The defaults were chosen on RAVDESS validation actors only, with
``benchmarks/noise_robustness.py --denoise-grid`` (see benchmarks/README.md). ``noisereduce`` is
imported when :func:`denoise` is first called, so importing this module costs nothing; it pulls in
scipy, joblib and tqdm, never matplotlib (that is its plotting module, which is not imported).
"""

from __future__ import annotations

import math

import numpy as np

from ser_tf.errors import ParameterError

__all__ = ["denoise", "DEFAULT_STATIONARY", "DEFAULT_PROP_DECREASE"]

# Chosen by benchmarks/noise_robustness.py --denoise-grid on validation actors (benchmarks/README.md:
# Whisper fold-1 of runs/concat_views, 30 clips): the mildest setting cost clean speech least and
# scored best over the noisy conditions; stronger gating (0.8, 1.0, stationary) removed voice too.
DEFAULT_STATIONARY = False  # the running noise floor: babble and speech-shaped noise change
DEFAULT_PROP_DECREASE = 0.5  # attenuate gated bins by half
DEFAULT_TIME_CONSTANT_S = 2.0  # s, the running noise floor's averaging time (noisereduce's default)
DEFAULT_N_FFT = 1024  # samples: 64 ms at 16 kHz, noisereduce's default; hop n_fft // 4


def denoise(
    x: np.ndarray,
    *,
    sample_rate: int,
    stationary: bool = DEFAULT_STATIONARY,
    prop_decrease: float = DEFAULT_PROP_DECREASE,
    time_constant_s: float = DEFAULT_TIME_CONSTANT_S,
    n_fft: int = DEFAULT_N_FFT,
) -> np.ndarray:
    """Reduce the background noise of one mono clip by spectral gating.

    Args:
        x: ``(samples,)`` waveform, float in [-1, 1] (converted to float32). At least ``n_fft``
            samples.
        sample_rate: Hz, > 0 (``ser_tf.constants.SAMPLE_RATE`` = 16000 for ser_tf models).
        stationary: ``True``: one noise threshold per frequency for the whole clip; ``False``: a
            running threshold over ``time_constant_s``.
        prop_decrease: share of the noise removed in gated bins, in [0, 1] (0: output = input).
        time_constant_s: seconds, > 0; the running threshold's averaging time (non-stationary).
        n_fft: STFT window in samples, >= 32 (hop ``n_fft // 4``).

    Returns:
        float32 ``(samples,)``, the same length as ``x``, clipped to [-1, 1]. A silent clip (all
        zeros) comes back as zeros.

    Raises:
        ParameterError: ``x`` not 1-D, too short or not finite, or an argument out of range (the
            message repeats the value).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ParameterError(f"denoise: x must be a mono (samples,) waveform, got shape {x.shape}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) \
            or sample_rate <= 0:
        raise ParameterError(f"denoise: sample_rate must be a positive integer (Hz), "
                             f"got {sample_rate!r}")
    if not isinstance(prop_decrease, (int, float)) or not 0.0 <= prop_decrease <= 1.0:
        raise ParameterError(f"denoise: prop_decrease must be in [0, 1], got {prop_decrease!r}")
    if not isinstance(time_constant_s, (int, float)) or not (
            math.isfinite(time_constant_s) and time_constant_s > 0):
        raise ParameterError(f"denoise: time_constant_s must be > 0 seconds, "
                             f"got {time_constant_s!r}")
    if isinstance(n_fft, bool) or not isinstance(n_fft, (int, np.integer)) or n_fft < 32:
        raise ParameterError(f"denoise: n_fft must be an integer >= 32 samples, got {n_fft!r}")
    if len(x) < n_fft:
        raise ParameterError(f"denoise: x has {len(x)} samples, fewer than n_fft={n_fft}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("denoise: x holds NaN or infinite samples")
    if not np.any(x):
        return x.copy()  # nothing to gate (and the non-stationary gate would divide 0 by 0)

    import noisereduce  # lazily: scipy + joblib, loaded only by the callers that denoise

    y = noisereduce.reduce_noise(
        y=x, sr=int(sample_rate), stationary=bool(stationary), prop_decrease=float(prop_decrease),
        time_constant_s=float(time_constant_s), n_fft=int(n_fft), use_tqdm=False, n_jobs=1,
    )
    y = np.nan_to_num(np.asarray(y, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(y, -1.0, 1.0)
