"""Energy-based voice-activity gate, so silence is reported as "silence" rather than an emotion.

A fixed dBFS threshold does not work across recordings: RAVDESS speech sits around -55 dBFS RMS in
its quiet takes, while a laptop microphone's room noise can be louder than that. The gate therefore
compares each 25 ms frame with a running estimate of the *noise floor* (a low percentile of frame
levels, tracked downwards at once and upwards slowly), and with an absolute floor below which
nothing counts as speech. A window is voiced when enough of its frames stand out.

NumPy only: this runs on every window of a live stream.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from ser_tf.constants import HOP_LENGTH, SAMPLE_RATE, SILENCE_PEAK, WIN_LENGTH
from ser_tf.errors import ParameterError

# Level reported for an all-zero frame, instead of -inf (dBFS).
_MIN_DB = -120.0


def frame_levels_db(
    x: np.ndarray, *, frame_length: int = WIN_LENGTH, hop_length: int = HOP_LENGTH
) -> np.ndarray:
    """RMS level of each frame of ``x`` in dB relative to full scale.

    Args:
        x: float waveform ``(samples,)`` in [-1, 1].
        frame_length: samples per frame (default 400 = 25 ms at 16 kHz).
        hop_length: samples between frame starts (default 160 = 10 ms).

    Returns:
        float32 ``(frames,)`` in [-120, ~3] dBFS; a clip shorter than one frame is one frame.
        A full-scale sine reads -3 dBFS.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ParameterError(f"frame_levels_db expects a 1-D waveform, got shape {x.shape}")
    if x.size == 0:
        raise ParameterError("frame_levels_db got an empty waveform")
    if x.size < frame_length:
        frames = x[None, :]
    else:
        frames = np.lib.stride_tricks.sliding_window_view(x, frame_length)[::hop_length]
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), _MIN_DB).astype(np.float32)


def is_digital_silence(x: np.ndarray, *, peak: float = SILENCE_PEAK) -> bool:
    """True when every sample of ``x`` is below ``peak`` in absolute value (float scale)."""
    x = np.asarray(x)
    return x.size == 0 or float(np.max(np.abs(x))) < peak


@dataclasses.dataclass(frozen=True)
class VadResult:
    """The gate's decision on one window.

    Attributes:
        voiced: the window holds enough loud-enough frames to be classified.
        voiced_fraction: share of frames above ``threshold_db`` (0 to 1).
        level_db: the window's overall RMS level (dBFS).
        threshold_db: the frame level a frame had to exceed (dBFS).
    """

    voiced: bool
    voiced_fraction: float
    level_db: float
    threshold_db: float


class EnergyVAD:
    """Stateful energy gate over a sequence of windows (a long file or a live stream).

    A frame counts as voiced when its level exceeds ``max(abs_threshold_db, noise_floor +
    margin_db)``. The noise floor is the lowest ``floor_percentile`` of frame levels seen so far; it
    drops immediately to a quieter window's value and rises by at most ``rise_db_per_s`` per second
    of audio, so a noisier room is learnt over tens of seconds while speech never becomes "noise".

    Args:
        abs_threshold_db: frames quieter than this are never speech (dBFS, default -70).
        margin_db: how far above the noise floor speech must be (dB, default 12).
        min_voiced_fraction: share of voiced frames a window needs (0 to 1, default 0.1).
        floor_percentile: percentile of a window's frame levels taken as its noise level (0 to 100).
        rise_db_per_s: how fast the floor may rise, in dB per second of audio (>= 0).
        sample_rate: rate of the windows, in Hz; only used to turn window lengths into seconds.
    """

    def __init__(
        self,
        *,
        abs_threshold_db: float = -70.0,
        margin_db: float = 12.0,
        min_voiced_fraction: float = 0.1,
        floor_percentile: float = 10.0,
        rise_db_per_s: float = 1.0,
        sample_rate: int = SAMPLE_RATE,
    ):
        if not 0.0 <= min_voiced_fraction <= 1.0:
            raise ParameterError(f"min_voiced_fraction must be in [0, 1], got {min_voiced_fraction!r}")
        if not 0.0 <= floor_percentile <= 100.0:
            raise ParameterError(f"floor_percentile must be in [0, 100], got {floor_percentile!r}")
        if margin_db < 0 or rise_db_per_s < 0:
            raise ParameterError(
                f"margin_db and rise_db_per_s must be >= 0, got {margin_db!r} and {rise_db_per_s!r}"
            )
        self.abs_threshold_db = float(abs_threshold_db)
        self.margin_db = float(margin_db)
        self.min_voiced_fraction = float(min_voiced_fraction)
        self.floor_percentile = float(floor_percentile)
        self.rise_db_per_s = float(rise_db_per_s)
        self.sample_rate = int(sample_rate)
        self.noise_floor_db: Optional[float] = None

    def reset(self) -> None:
        """Forget the noise floor (start of a new recording)."""
        self.noise_floor_db = None

    def __call__(self, x: np.ndarray, *, advance_s: Optional[float] = None) -> VadResult:
        """Decide whether the window ``x`` is voiced, and update the noise floor.

        Args:
            x: float32 ``(samples,)`` window in [-1, 1].
            advance_s: seconds of new audio since the previous window (the hop); bounds how far the
                floor may rise. ``None`` means the window's own length.
        """
        levels = frame_levels_db(x)
        window_floor = float(np.percentile(levels, self.floor_percentile))
        if self.noise_floor_db is None:
            self.noise_floor_db = window_floor
        else:
            seconds = len(x) / self.sample_rate if advance_s is None else float(advance_s)
            allowed = self.noise_floor_db + self.rise_db_per_s * seconds
            self.noise_floor_db = min(window_floor, allowed)
        threshold = max(self.abs_threshold_db, self.noise_floor_db + self.margin_db)
        fraction = float(np.mean(levels > threshold))
        power = float(np.mean(np.square(np.asarray(x, dtype=np.float64))))
        level = max(10.0 * np.log10(max(power, 1e-30)), _MIN_DB)
        voiced = fraction >= self.min_voiced_fraction and fraction > 0.0
        return VadResult(voiced, fraction, float(level), float(threshold))
