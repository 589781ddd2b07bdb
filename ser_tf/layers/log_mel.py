"""Log-mel spectrogram front-end as a Keras layer, matching librosa.

The layer sits inside every saved CNN/RNN model, so a ``.keras`` file takes a raw 16 kHz
waveform and training and serving cannot drift apart. It reproduces, in float32 TensorFlow::

    S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, win_length=win_length,
                                       hop_length=hop_length, n_mels=n_mels, fmin=fmin,
                                       fmax=fmax, center=center, power=2.0)
    librosa.power_to_db(S, ref=np.max, top_db=top_db).T

followed by an optional per-utterance normalisation. Agreement with librosa run in float64
(tested in ``tests/layers/test_log_mel.py`` on noise and on a chirp): at most 0.01 dB apart,
0.0001 dB on average. Noise agrees to ~1e-5 dB; the largest deviations (~1.5e-3 dB) are in
chirp bins near the ``top_db`` floor, where float32 FFT round-off (~1e-7 of a frame's peak
amplitude) is a visible share of a very small power.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from ser_tf import constants as C
from ser_tf.errors import ParameterError
from ser_tf.utils.checks import number_at_least, positive_int
from ser_tf.layers.mel_filters import mel_filterbank

NORMALIZATIONS = ("minmax", "meanvar", "none")


def stft_window(*, n_fft: int, win_length: int) -> np.ndarray:
    """Periodic Hann window of ``win_length`` zero-padded to ``n_fft``, centred (librosa's)."""
    n = np.arange(win_length)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)
    left = (n_fft - win_length) // 2
    return np.pad(window, (left, n_fft - win_length - left)).astype(np.float32)


def num_frames(num_samples: int, *, n_fft: int, hop_length: int, center: bool) -> int:
    """Frames of an STFT of ``num_samples`` samples: ``1 + num_samples // hop`` when centred."""
    if center:
        return 1 + num_samples // hop_length
    return 1 + (num_samples - n_fft) // hop_length


def power_spectrogram(waveform, *, n_fft: int, win_length: int, hop_length: int, center: bool):
    """``(batch, samples)`` float32 -> ``(batch, frames, 1 + n_fft // 2)`` power ``|STFT|^2``.

    With ``center`` the signal is padded with ``n_fft // 2`` zeros on each side, librosa's default
    (``pad_mode="constant"`` since 0.10), so frame ``t`` is centred on sample ``t * hop_length``.
    """
    if center:
        pad = n_fft // 2
        waveform = tf.pad(waveform, [[0, 0], [pad, pad]])
    window = tf.constant(stft_window(n_fft=n_fft, win_length=win_length))
    stft = tf.signal.stft(
        waveform,
        frame_length=n_fft,
        frame_step=hop_length,
        fft_length=n_fft,
        window_fn=lambda length, dtype: tf.cast(window, dtype),
        pad_end=False,
    )
    return tf.math.square(tf.math.real(stft)) + tf.math.square(tf.math.imag(stft))


def power_to_db(power, *, ref_max: bool, top_db: float | None, amin: float = C.LOG_FLOOR):
    """``10 log10(max(power, amin))`` per utterance, like ``librosa.power_to_db``.

    Args:
        power: ``(batch, frames, bins)`` non-negative power.
        ref_max: if True, 0 dB is each utterance's maximum (``ref=np.max``); else 0 dB is 1.0.
        top_db: keep at most this many dB below each utterance's peak; ``None`` keeps all.
        amin: floor on the power (and on the reference) before the log.
    """
    scale = 10.0 / math.log(10.0)
    db = scale * tf.math.log(tf.maximum(power, amin))
    if ref_max:
        peak = tf.reduce_max(power, axis=[1, 2], keepdims=True)
        db = db - scale * tf.math.log(tf.maximum(peak, amin))
    if top_db is not None:
        db = tf.maximum(db, tf.reduce_max(db, axis=[1, 2], keepdims=True) - top_db)
    return db


def normalize(features, *, mode: str, axes):
    """Per-utterance ``minmax`` (to [0, 1]) or ``meanvar`` (zero mean, unit variance) over ``axes``.

    A constant input (e.g. digital silence) maps to zeros instead of NaN.
    """
    if mode == "minmax":
        low = tf.reduce_min(features, axis=axes, keepdims=True)
        high = tf.reduce_max(features, axis=axes, keepdims=True)
        return (features - low) / tf.maximum(high - low, 1e-6)
    if mode == "meanvar":
        mean, variance = tf.nn.moments(features, axes=axes, keepdims=True)
        return (features - mean) / tf.maximum(tf.sqrt(variance), 1e-6)
    return features


def check_stft_args(*, sample_rate, n_fft, win_length, hop_length, normalization) -> None:
    """Raise ``ParameterError`` naming the bad value for an invalid front-end setting."""
    for name, value in (
        ("sample_rate", sample_rate),
        ("n_fft", n_fft),
        ("win_length", win_length),
        ("hop_length", hop_length),
    ):
        positive_int(value, name=name)
    if win_length > n_fft:
        raise ParameterError(f"win_length={win_length!r} must not exceed n_fft={n_fft!r}")
    if normalization not in NORMALIZATIONS:
        raise ParameterError(
            f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}"
        )


class MelFrontend(keras.layers.Layer):
    """Shared base of ``LogMelSpectrogram`` and ``MFCC``: waveform -> mel power in dB.

    Holds the STFT/filterbank settings both layers take (see ``LogMelSpectrogram`` for their
    meaning), validates them, and serialises them in ``get_config``. Subclasses pick their own
    ``n_mels`` and ``normalization`` defaults, pass the other settings through ``**kwargs``,
    set ``num_features`` and build their output from ``mel_db``. Not registered for saving on
    its own: it is never used directly.
    """

    def __init__(
        self,
        *,
        n_mels: int,
        normalization: str,
        sample_rate: int = C.SAMPLE_RATE,
        n_fft: int = C.N_FFT,
        win_length: int = C.WIN_LENGTH,
        hop_length: int = C.HOP_LENGTH,
        fmin: float = C.FMIN,
        fmax: float = C.FMAX,
        top_db: float | None = C.TOP_DB,
        center: bool = True,
        log_floor: float = C.LOG_FLOOR,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        check_stft_args(
            sample_rate=sample_rate,
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            normalization=normalization,
        )
        self.sample_rate = int(sample_rate)
        self.n_fft = int(n_fft)
        self.win_length = int(win_length)
        self.hop_length = int(hop_length)
        self.n_mels = positive_int(n_mels, name="n_mels")
        self.fmin = number_at_least(fmin, name="fmin (Hz)", low=0.0)
        # None: up to Nyquist, as librosa's fmax=None
        self.fmax = self.sample_rate / 2.0 if fmax is None else number_at_least(fmax, name="fmax (Hz)", low=0.0)
        self.top_db = None if top_db is None else number_at_least(top_db, name="top_db (dB)", low=0.0)
        self.normalization = normalization
        self.center = bool(center)
        self.log_floor = float(log_floor)
        # (bins, n_mels): applied as power @ weights. Kept as NumPy, not as layer weights, because
        # it is a pure function of the config above.
        self._mel_weights = mel_filterbank(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
        ).T

    @property
    def num_features(self) -> int:
        """Features per output frame."""
        raise NotImplementedError

    def mel_db(self, inputs, *, ref_max: bool):
        """``(batch, samples)`` waveform -> ``(batch, frames, n_mels)`` mel power in dB.

        ``ref_max`` as for ``power_to_db``: 0 dB at each utterance's peak, else at power 1.0;
        clipped to ``top_db`` below the peak.
        """
        waveform = tf.cast(inputs, tf.float32)
        if waveform.shape.rank != 2:
            raise ParameterError(
                f"{self.name} expects a (batch, samples) waveform, got shape {waveform.shape}"
            )
        samples = waveform.shape[1]
        if not self.center and samples is not None and samples < self.n_fft:
            # Not one frame: the dB reference would be the max of nothing (-inf).
            raise ParameterError(f"{self.name}: with center=False a clip needs at least n_fft="
                                 f"{self.n_fft} samples, got {samples}")
        power = power_spectrogram(
            waveform,
            n_fft=self.n_fft,
            win_length=self.win_length,
            hop_length=self.hop_length,
            center=self.center,
        )
        mel = tf.linalg.matmul(power, tf.constant(self._mel_weights))
        return power_to_db(mel, ref_max=ref_max, top_db=self.top_db, amin=self.log_floor)

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        frames = None
        if samples is not None:
            frames = num_frames(
                samples, n_fft=self.n_fft, hop_length=self.hop_length, center=self.center
            )
        return (input_shape[0], frames, self.num_features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "n_fft": self.n_fft,
                "win_length": self.win_length,
                "hop_length": self.hop_length,
                "n_mels": self.n_mels,
                "fmin": self.fmin,
                "fmax": self.fmax,
                "top_db": self.top_db,
                "normalization": self.normalization,
                "center": self.center,
                "log_floor": self.log_floor,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="ser_tf")
class LogMelSpectrogram(MelFrontend):
    """Waveform -> log-mel spectrogram in dB (librosa-equivalent), optionally normalised.

    Args:
        sample_rate: sampling rate of the input, Hz.
        n_fft: FFT length in samples; ``1 + n_fft // 2`` frequency bins.
        win_length: Hann window length in samples (<= ``n_fft``), zero-padded to ``n_fft``.
        hop_length: samples between frames.
        n_mels: mel bands (Slaney scale, Slaney area normalisation).
        fmin, fmax: band edges of the filterbank, Hz (``fmax <= sample_rate / 2``).
        top_db: dynamic range kept below each utterance's peak, dB (``None``: no clipping).
        normalization: ``"minmax"`` scales each utterance to [0, 1] (0 = ``top_db`` below the
            peak, 1 = the peak); ``"meanvar"`` to zero mean and unit variance over all of its
            (frame, band) cells; ``"none"`` keeps dB relative to the peak, in ``[-top_db, 0]``.
        center: pad ``n_fft // 2`` zeros on each side so frame ``t`` is centred on sample
            ``t * hop_length``; then ``frames = 1 + samples // hop_length``.
        log_floor: power floor before the log (librosa's ``amin``).

    Call args:
        inputs: ``(batch, samples)`` float waveform, nominally in [-1, 1].

    Returns:
        ``(batch, frames, n_mels)`` float32.

    The layer computes in float32 whatever the global dtype policy, because fp16 cannot hold
    the power spectrum's 80+ dB dynamic range.
    """

    def __init__(
        self,
        *,
        n_mels: int = C.N_MELS,
        normalization: str = "minmax",
        top_db: float | None = C.TOP_DB,
        **kwargs,
    ):
        # sample_rate, n_fft, win_length, hop_length, fmin, fmax, center, log_floor and the
        # Keras layer arguments go through to MelFrontend (defaults from ser_tf.constants).
        super().__init__(n_mels=n_mels, normalization=normalization, top_db=top_db, **kwargs)

    @property
    def num_features(self) -> int:
        """Features per frame: ``n_mels``."""
        return self.n_mels

    def call(self, inputs):
        db = self.mel_db(inputs, ref_max=True)
        return normalize(db, mode=self.normalization, axes=[1, 2])
