"""MFCC front-end with deltas as a Keras layer, matching librosa.

Reproduces, in float32 TensorFlow::

    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, win_length=win_length,
                                         hop_length=hop_length, n_mels=n_mels, fmin=fmin,
                                         fmax=fmax, center=center, power=2.0)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=top_db), n_mfcc=n_mfcc)
    np.concatenate([mfcc, librosa.feature.delta(mfcc, width=9),
                    librosa.feature.delta(mfcc, width=9, order=2)]).T

i.e. ``power_to_db`` with ``ref=1.0`` (librosa's default for MFCCs), an orthonormal DCT-II,
and Savitzky-Golay deltas with ``mode="interp"``. The deltas are exact, edges included: with
``polyorder == deriv`` (librosa's choice) the fitted polynomial's derivative is constant over
the window, so ``interp`` edges repeat the nearest interior value. Agreement with float64
librosa is tested in ``tests/layers/test_mfcc.py``: within 1e-5 of each block's range
(measured ~1e-6: float32 round-off only).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from ser_tf import constants as C
from ser_tf.errors import ParameterError
from ser_tf.utils.checks import positive_int
from ser_tf.layers.log_mel import MelFrontend, normalize

# librosa.feature.mfcc's default: 128 mel bands under the DCT. At 16 kHz with n_fft=512 the
# lowest bands are each about one FFT bin wide, which is harmless once the DCT smooths them.
MFCC_N_MELS = 128


def savgol_derivative_kernel(*, width: int, order: int) -> np.ndarray:
    """Savitzky-Golay weights for the ``order``-th derivative of a degree-``order`` local fit.

    ``delta[t] = sum_k kernel[k] * x[t + k - width // 2]``; for ``order=1`` this is the familiar
    regression ``k / sum(k^2)`` over ``k = -4..4``. Same weights as
    ``scipy.signal.savgol_coeffs(width, order, deriv=order, use="dot")``.
    """
    if positive_int(width, name="delta width") < 3 or width % 2 != 1:
        raise ParameterError(f"delta width must be an odd integer >= 3, got {width!r}")
    offsets = np.arange(width, dtype=np.float64) - width // 2
    vander = np.vander(offsets, order + 1, increasing=True)  # (width, order + 1)
    kernel = np.linalg.pinv(vander)[order] * math.factorial(order)
    kernel[np.abs(kernel) < 1e-12] = 0.0  # the centre tap of odd derivatives is exactly 0
    return kernel.astype(np.float32)


def delta(features, *, width: int, order: int):
    """``librosa.feature.delta(features.T, width=width, order=order, mode="interp").T``.

    Args:
        features: ``(batch, frames, dim)`` with ``frames >= width``.

    Returns:
        ``(batch, frames, dim)``.
    """
    half = width // 2
    frames = features.shape[1]
    if frames is not None and frames < width:
        raise ParameterError(
            f"deltas with width={width} need at least {width} frames, got {frames}; "
            "use longer audio or a smaller delta_width"
        )
    kernel = savgol_derivative_kernel(width=width, order=order)
    length = tf.shape(features)[1] - 2 * half
    # Sum of shifted slices: a 'valid' correlation over time, cheap for a 9-tap kernel.
    valid = tf.add_n(
        [float(kernel[k]) * features[:, k : k + length] for k in range(width) if kernel[k] != 0]
    )
    first = tf.repeat(valid[:, :1], half, axis=1)
    last = tf.repeat(valid[:, -1:], half, axis=1)
    return tf.concat([first, valid, last], axis=1)


def dct_matrix(*, n: int, n_out: int) -> np.ndarray:
    """``(n, n_out)`` float32 orthonormal DCT-II basis: ``x @ D == scipy.fft.dct(x, norm="ortho")[..., :n_out]``.

    ``D[k, j] = s_j cos(pi (2k + 1) j / (2n))`` with ``s_0 = sqrt(1 / n)`` and ``s_j = sqrt(2 / n)``.
    """
    k = np.arange(n, dtype=np.float64)[:, None]
    j = np.arange(n_out, dtype=np.float64)[None, :]
    basis = np.cos(np.pi * (2.0 * k + 1.0) * j / (2.0 * n)) * np.sqrt(2.0 / n)
    basis[:, 0] = np.sqrt(1.0 / n)
    return basis.astype(np.float32)


@keras.saving.register_keras_serializable(package="ser_tf")
class MFCC(MelFrontend):
    """Waveform -> MFCCs (+ deltas and delta-deltas), librosa-equivalent.

    Args:
        sample_rate, n_fft, win_length, hop_length, fmin, fmax, center, log_floor: as for
            ``LogMelSpectrogram``.
        n_mels: mel bands under the DCT (default 128, librosa's MFCC default).
        top_db: dynamic range kept below each utterance's peak before the DCT, dB.
        n_mfcc: coefficients kept, ``1 <= n_mfcc <= n_mels``.
        deltas: append first and second derivatives over time (``3 * n_mfcc`` features).
        delta_width: frames in the Savitzky-Golay window, odd and >= 3. Inputs must give at
            least this many frames (9 frames = 0.08 s at the default hop).
        normalization: ``"none"`` (librosa's values), ``"meanvar"`` (each feature to zero mean
            and unit variance over the utterance's frames: cepstral mean-variance
            normalisation), or ``"minmax"`` (each feature to [0, 1] over the frames).

    Call args:
        inputs: ``(batch, samples)`` float waveform, nominally in [-1, 1].

    Returns:
        ``(batch, frames, n_mfcc * (3 if deltas else 1))`` float32, ordered
        ``[mfcc, delta, delta-delta]``; ``frames = 1 + samples // hop_length`` when centred.
    """

    def __init__(
        self,
        *,
        n_mels: int = MFCC_N_MELS,
        n_mfcc: int = C.N_MFCC,
        deltas: bool = True,
        delta_width: int = C.DELTA_WIDTH,
        normalization: str = "none",
        **kwargs,
    ):
        # sample_rate, n_fft, win_length, hop_length, fmin, fmax, top_db, center, log_floor and
        # the Keras layer arguments go through to MelFrontend (defaults from ser_tf.constants).
        super().__init__(n_mels=n_mels, normalization=normalization, **kwargs)
        if positive_int(n_mfcc, name="n_mfcc") > self.n_mels:
            raise ParameterError(
                f"n_mfcc must be an integer in [1, n_mels={n_mels}], got {n_mfcc!r}"
            )
        savgol_derivative_kernel(width=delta_width, order=1)  # validates delta_width
        self.n_mfcc = int(n_mfcc)
        self.deltas = bool(deltas)
        self.delta_width = int(delta_width)

    @property
    def num_features(self) -> int:
        """Features per frame: ``n_mfcc``, tripled with deltas."""
        return self.n_mfcc * (3 if self.deltas else 1)

    def call(self, inputs):
        # librosa's MFCCs take power_to_db with ref=1.0, not the per-utterance peak.
        db = self.mel_db(inputs, ref_max=False)
        # The orthonormal DCT-II as a matmul with its first n_mfcc basis vectors: the same values as
        # tf.signal.dct(db, type=2, norm="ortho")[..., :n_mfcc] (float32 round-off), without the
        # complex RFFT slices that TFLite's builtin ops cannot run.
        mfcc = tf.linalg.matmul(db, tf.constant(dct_matrix(n=self.n_mels, n_out=self.n_mfcc)))
        if self.deltas:
            mfcc = tf.concat(
                [
                    mfcc,
                    delta(mfcc, width=self.delta_width, order=1),
                    delta(mfcc, width=self.delta_width, order=2),
                ],
                axis=-1,
            )
        return normalize(mfcc, mode=self.normalization, axes=[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_mfcc": self.n_mfcc,
                "deltas": self.deltas,
                "delta_width": self.delta_width,
            }
        )
        return config
