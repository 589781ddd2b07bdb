"""Whisper's log-mel front-end as a Keras layer, on the clip's own length (no 30 s padding).

Reproduces, in float32 TensorFlow, ``transformers.WhisperFeatureExtractor`` (and OpenAI's
``whisper.audio.log_mel_spectrogram``) for one utterance::

    stft = STFT(y, n_fft=400, hop=160, periodic Hann(400), center=True, pad_mode="reflect")
    mel = slaney_mel(80 or 128 bins, 0-8000 Hz) @ |stft[..., :-1]|^2     # last frame dropped
    x = log10(max(mel, 1e-10))
    x = max(x, max(x) - 8)          # per utterance: 80 dB of dynamic range below the peak
    x = (x + 4) / 4

The feature extractor first pads every clip to 30 s; this layer does not, so a clip of ``n``
samples gives ``n // 160`` frames (10 ms each). On the same (e.g. 30 s padded) input the two agree
to the tolerance stated in ``tests/layers/test_whisper_log_mel.py`` (1e-4 on the scaled log-mel;
measured 1e-6 to 7e-5). In a batch of zero-padded clips, a clip's frames equal those of the clip
alone except at most the last, whose reflect padding now sees zeros instead of the mirrored signal
(0.014 apart in ``tests/models/whisper/test_backbone.py``): the peak and the clamp at peak - 8 are
per row, and padding at the log floor leaves the peak alone. ``WaveformFrameMask``
(``ser_tf.models.whisper.layers``) gives the matching frame mask.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ser_tf import constants as C
from ser_tf.errors import ParameterError
from ser_tf.utils.checks import positive_int
from ser_tf.layers.log_mel import stft_window
from ser_tf.layers.mel_filters import mel_filterbank

# Whisper's fixed analysis settings (whisper/audio.py): 25 ms windows, 10 ms hop at 16 kHz.
WHISPER_N_FFT = 400
WHISPER_HOP_LENGTH = 160
# Mel bands: 80 for every model up to large-v2, 128 for large-v3.
WHISPER_N_MELS = (80, 128)
# Floor on the mel power before log10, and the range kept below each utterance's peak (log10 units,
# i.e. 8 = 80 dB).
WHISPER_LOG_FLOOR = 1e-10
WHISPER_DYNAMIC_RANGE = 8.0


def whisper_frame_count(num_samples: int, *, hop_length: int = WHISPER_HOP_LENGTH) -> int:
    """Log-mel frames Whisper computes from ``num_samples`` samples: ``num_samples // hop_length``.

    The centred STFT has ``1 + num_samples // hop_length`` frames and Whisper drops the last one.
    """
    return int(num_samples) // int(hop_length)


def windowed_dft_basis(window: np.ndarray) -> np.ndarray:
    """``(n_fft, 2 * bins)`` float32 ``[w cos | -w sin]``, ``bins = 1 + n_fft // 2``, for ``window`` ``(n_fft,)``.

    ``frames @ basis`` split in two halves is the real and imaginary part of
    ``np.fft.rfft(frames * window)``, for any ``n_fft`` (not only powers of two).
    """
    n_fft = len(window)
    n = np.arange(n_fft, dtype=np.float64)[:, None]
    k = np.arange(1 + n_fft // 2, dtype=np.float64)[None, :]
    angle = 2.0 * np.pi * n * k / n_fft
    w = np.asarray(window, dtype=np.float64)[:, None]
    return np.concatenate([w * np.cos(angle), -w * np.sin(angle)], axis=1).astype(np.float32)


@keras.saving.register_keras_serializable(package="ser_tf")
class WhisperLogMel(keras.layers.Layer):
    """Raw 16 kHz waveform -> Whisper log-mel features, frame-major.

    Args:
        n_mels: mel bands: 80 (Whisper tiny ... large-v2) or 128 (large-v3).
        sample_rate: sampling rate of the input, Hz (Whisper models expect 16000).
        n_fft: FFT and Hann window length in samples, even (Whisper: 400 = 25 ms).
        hop_length: samples between frames (Whisper: 160 = 10 ms).

    Call args:
        inputs: ``(batch, samples)`` float waveform in [-1, 1], ``samples > n_fft // 2`` (the
            reflect padding needs at least ``n_fft // 2 + 1`` samples).

    Returns:
        ``(batch, samples // hop_length, n_mels)`` float32, Whisper-scaled log10 mel power (about
        [-1, 2] for speech; ``(log10(power) + 4) / 4`` clamped to 2 below each clip's peak).

    Computes in float32 whatever the global dtype policy: fp16 cannot hold the power spectrum.
    """

    def __init__(
        self,
        *,
        n_mels: int = 80,
        sample_rate: int = C.SAMPLE_RATE,
        n_fft: int = WHISPER_N_FFT,
        hop_length: int = WHISPER_HOP_LENGTH,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("n_mels", n_mels), ("sample_rate", sample_rate), ("n_fft", n_fft),
                            ("hop_length", hop_length)):
            positive_int(value, name=f"WhisperLogMel: {name}")
        if n_fft % 2:  # reflect padding by n_fft // 2 then gives (samples - 1) // hop frames, not samples // hop
            raise ParameterError(f"WhisperLogMel: n_fft must be even (Whisper's is 400), got {n_fft!r}")
        if n_mels not in WHISPER_N_MELS:
            raise ParameterError(
                f"WhisperLogMel: n_mels must be one of {WHISPER_N_MELS} (Whisper's filterbanks), got {n_mels!r}"
            )
        self.n_mels = int(n_mels)
        self.sample_rate = int(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        # (bins, n_mels) Slaney filters up to Nyquist, as librosa.filters.mel(sr, n_fft, n_mels):
        # a pure function of the config, so a constant, not a weight.
        self._mel_weights = mel_filterbank(
            sample_rate=self.sample_rate, n_fft=self.n_fft, n_mels=self.n_mels, fmin=0.0, fmax=None
        ).T
        self._dft_basis = windowed_dft_basis(stft_window(n_fft=self.n_fft, win_length=self.n_fft))

    def call(self, inputs):
        waveform = tf.cast(inputs, tf.float32)
        if waveform.shape.rank != 2:
            raise ParameterError(
                f"{self.name} expects a (batch, samples) waveform, got shape {tuple(waveform.shape)}"
            )
        samples = waveform.shape[1]
        if samples is not None and samples <= self.n_fft // 2:
            raise ParameterError(
                f"{self.name}: a clip needs more than {self.n_fft // 2} samples, got {samples}"
            )
        pad = self.n_fft // 2
        waveform = tf.pad(waveform, [[0, 0], [pad, pad]], mode="REFLECT")
        # The STFT as one matmul of the frames with a windowed DFT basis rather than tf.signal.stft:
        # TFLite's builtin RFFT2D takes only power-of-two lengths, and Whisper's n_fft is 400. Same
        # values up to float32 round-off (tests/layers/test_whisper_log_mel.py bounds both).
        frames = tf.signal.frame(waveform, self.n_fft, self.hop_length)[:, :-1]  # Whisper drops the last
        real, imag = tf.split(tf.linalg.matmul(frames, tf.constant(self._dft_basis)), 2, axis=-1)
        power = tf.math.square(real) + tf.math.square(imag)
        mel = tf.linalg.matmul(power, tf.constant(self._mel_weights))
        log_spec = tf.math.log(tf.maximum(mel, WHISPER_LOG_FLOOR)) / np.log(10.0).astype(np.float32)
        peak = tf.reduce_max(log_spec, axis=[1, 2], keepdims=True)
        log_spec = tf.maximum(log_spec, peak - WHISPER_DYNAMIC_RANGE)
        return (log_spec + 4.0) / 4.0

    def frame_count(self, num_samples: int) -> int:
        """Output frames for ``num_samples`` input samples (300 for 3 s at 16 kHz)."""
        return whisper_frame_count(num_samples, hop_length=self.hop_length)

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        frames = None if samples is None else self.frame_count(samples)
        return (input_shape[0], frames, self.n_mels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_mels": self.n_mels,
                "sample_rate": self.sample_rate,
                "n_fft": self.n_fft,
                "hop_length": self.hop_length,
            }
        )
        return config
