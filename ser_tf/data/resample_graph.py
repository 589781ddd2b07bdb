"""``scipy.signal.resample_poly`` in the TensorFlow graph: the same filter, the same output grid.

:func:`ser_tf.data.audio_io.resample` (NumPy, used by inference and every non-WAV file) calls
``resample_poly(x, up, down)``: a Kaiser-windowed sinc of ``2 * 10 * max(up, down) + 1`` taps
(``firwin``, beta 5, cutoff ``1 / max(up, down)`` of Nyquist, gain ``up``), zero padding at both
ends, output length ``ceil(samples * up / down)``. :func:`resample` here computes the same sum in
float32 inside ``tf.data``, so the input pipeline needs no ``numpy_function`` hop (which holds the
GIL and runs one file at a time) for WAV files at another rate. Results agree with ``resample_poly``
to float32 round-off (the summation order differs): within 1e-6 on full-scale audio.

How: output ``j`` of ``resample_poly`` is ``sum_t G[r_j, t] * x[q_j - t]`` with ``m = (j + pre) *
down``, ``q_j = m // up``, ``r_j = m % up`` (``G``: the filter split into its ``up`` phases).
Outputs ``b * up + c`` (``c < up``) share their phase with ``c`` and read ``down`` inputs further on
per block ``b``, so one window of ``T + down`` inputs every ``down`` samples times one
``(T + down, up)`` matrix gives ``up`` outputs per block: one strided ``conv1d`` with ``up``
output channels. With few phases (48 kHz: ``up = 1``) that convolution runs at 2 GMAC/s, so
``B`` blocks go side by side (:func:`superblock_matrix`) and it becomes one GEMM over the input
reshaped to rows of ``B * down`` samples, each row's window being it and the next row: half the
CPU time (``tf.signal.frame`` + matmul, gathering sample by sample, was 10x slower still).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ser_tf.errors import ParameterError
from ser_tf.utils.checks import positive_int

__all__ = ["polyphase_matrix", "superblock_matrix", "resample", "fits_in_graph"]

_HALF_TAPS = 10  # resample_poly's filter: 10 * max(up, down) taps each side (upsampled domain)


@functools.lru_cache(maxsize=16)
def polyphase_matrix(up: int, down: int):
    """The block matrix of the ``up / down`` resampler (``up``, ``down`` coprime, > 0).

    Returns:
        ``(matrix, start)``: float32 ``(T + down, up)`` with ``T = ceil(filter taps / up)``;
        block ``b`` is ``window_b @ matrix`` where ``window_b`` is ``T + down`` samples of the input
        left-padded with ``T - 1`` zeros, starting at padded index ``start + b * down``.
    """
    from scipy.signal import firwin  # the design resample_poly uses, so the taps are the same

    if up <= 0 or down <= 0 or math.gcd(up, down) != 1:
        raise ParameterError(f"polyphase_matrix needs coprime up, down > 0, got {up!r}, {down!r}")
    max_rate = max(up, down)
    half_len = _HALF_TAPS * max_rate
    taps = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)).astype(np.float32)
    taps *= up  # in float32 like resample_poly on float32 input
    pre_pad = down - half_len % down
    pre_remove = (half_len + pre_pad) // down
    padded = np.concatenate([np.zeros(pre_pad, np.float32), taps])
    n_taps = -(-len(padded) // up)
    phases = np.zeros((up, n_taps), np.float32)  # phases[r, t] = padded[r + up * t]
    for r in range(up):
        sub = padded[r::up]
        phases[r, :len(sub)] = sub
    m = (np.arange(up) + pre_remove) * down  # the first block's outputs
    q, r = m // up, m % up
    start = int(q[0])
    matrix = np.zeros((n_taps + down, up), np.float32)
    for c in range(up):
        rows = q[c] - start + n_taps - 1 - np.arange(n_taps)
        matrix[rows, c] = phases[r[c]]
    matrix.setflags(write=False)
    return matrix, start


_MIN_OUTPUTS = 32  # outputs per matmul row: enough columns for the GEMM to run at speed
# The matrix grows as up * down: 16 kHz from 44,101 Hz would need 706 M entries (2.8 GB) and a
# prime rate near 384 kHz 24 GB (the fuzz tests ran out of memory on it). Common rates need at most
# 0.3 M (11,025 Hz); above this bound a file takes the NumPy path (scipy's filter is O(up + down)).
MAX_MATRIX_ENTRIES = 1 << 22


def _ratio(orig_sr, target_sr):
    orig_sr = positive_int(orig_sr, name="orig_sr (Hz)")
    target_sr = positive_int(target_sr, name="target_sr (Hz)")
    g = math.gcd(orig_sr, target_sr)
    return target_sr // g, orig_sr // g


def _matrix_entries(up: int, down: int) -> int:
    """Entries of the matrix :func:`resample` would build for ``up / down`` (without building it)."""
    half_len = _HALF_TAPS * max(up, down)
    n_taps = -(-(down - half_len % down + 2 * half_len + 1) // up)
    if up >= _MIN_OUTPUTS:
        return (n_taps + down) * up
    blocks = max(-(-n_taps // down), -(-_MIN_OUTPUTS // up), 1)
    return 2 * blocks * down * blocks * up


def fits_in_graph(orig_sr, target_sr) -> bool:
    """Whether :func:`resample` takes ``orig_sr -> target_sr`` (Hz): its matrix has at most
    ``MAX_MATRIX_ENTRIES`` entries (every common rate does; a rate such as 44,101 Hz does not)."""
    up, down = _ratio(orig_sr, target_sr)
    return up == down or _matrix_entries(up, down) <= MAX_MATRIX_ENTRIES


@functools.lru_cache(maxsize=16)
def superblock_matrix(up: int, down: int):
    """``B`` blocks of :func:`polyphase_matrix` side by side, each ``down`` rows below the last.

    Returns:
        ``(matrix, start, blocks)``: float32 ``(2 * B * down, B * up)``; ``B * up`` outputs are
        ``window @ matrix`` for a window of ``2 * B * down`` inputs (padded as for
        :func:`polyphase_matrix`) starting every ``B * down``. ``B`` is the least number of blocks
        with ``B * up >= 32`` whose reach (``T + (B - 1) * down``) fits in the window, so the
        windows are two consecutive rows of the input reshaped to ``(-1, B * down)``.
    """
    block, start = polyphase_matrix(up, down)
    width = block.shape[0]
    blocks = max(-(-(width - down) // down), -(-_MIN_OUTPUTS // up), 1)
    matrix = np.zeros((2 * blocks * down, blocks * up), np.float32)
    for i in range(blocks):
        matrix[i * down:i * down + width, i * up:(i + 1) * up] = block
    matrix.setflags(write=False)
    return matrix, start, blocks


def resample(x, *, orig_sr: int, target_sr: int):
    """Resample a float32 ``(samples,)`` tensor from ``orig_sr`` to ``target_sr`` Hz, in-graph.

    Args:
        x: float32 ``(samples,)`` tensor, ``samples >= 1``.
        orig_sr, target_sr: positive integer rates in Hz (Python ints: the filter is a constant).

    Returns:
        float32 ``(ceil(samples * target_sr / orig_sr),)``, equal to
        ``scipy.signal.resample_poly(x, up, down)`` up to float32 round-off; ``x`` itself when
        the rates are equal.

    Raises:
        ParameterError: a rate that is not a positive integer, or a pair whose matrix would exceed
            ``MAX_MATRIX_ENTRIES`` (see :func:`fits_in_graph`; use the NumPy resampler then).
    """
    import tensorflow as tf

    up, down = _ratio(orig_sr, target_sr)
    if not fits_in_graph(orig_sr, target_sr):
        raise ParameterError(
            f"resampling {orig_sr} Hz to {target_sr} Hz in the graph needs a {_matrix_entries(up, down)}-entry "
            f"matrix (at most {MAX_MATRIX_ENTRIES}); use ser_tf.data.audio_io.resample"
        )
    x = tf.cast(tf.convert_to_tensor(x), tf.float32)
    if up == down:
        return x
    if up >= _MIN_OUTPUTS:  # many phases (44.1 kHz: 160): one strided conv1d, `up` channels
        return _strided_conv(x, up, down)
    return _superblock_gemm(x, up, down)  # few phases (48 kHz: 1): one GEMM, 2x the conv's speed


def _right_pad(n_in, reach, n_taps):
    """Zeros after ``n_in`` samples (and ``n_taps - 1`` before) so that ``reach`` padded samples
    exist."""
    import tensorflow as tf

    return tf.cast(tf.maximum(reach - (n_in + n_taps - 1), 0), tf.int32)


def _strided_conv(x, up: int, down: int):
    import tensorflow as tf

    matrix, start = polyphase_matrix(up, down)
    width = matrix.shape[0]
    n_taps = width - down
    n_in = tf.cast(tf.shape(x)[0], tf.int64)  # int64: samples * up overflows int32 for long files
    n_out = (n_in * up + down - 1) // down
    blocks = (n_out + up - 1) // up
    right = _right_pad(n_in, start + (blocks - 1) * down + width, n_taps)
    padded = tf.pad(x, [[n_taps - 1, right]])[start:]
    out = tf.nn.conv1d(padded[None, :, None], tf.constant(matrix[:, None, :]), down, "VALID")
    return tf.reshape(out[0, :tf.cast(blocks, tf.int32)], [-1])[:tf.cast(n_out, tf.int32)]


def _superblock_gemm(x, up: int, down: int):
    import tensorflow as tf

    matrix, start, per_row = superblock_matrix(up, down)
    n_taps = polyphase_matrix(up, down)[0].shape[0] - down
    step = per_row * down  # inputs per row; a row's window is it and the next row
    n_in = tf.cast(tf.shape(x)[0], tf.int64)
    n_out = (n_in * up + down - 1) // down
    rows = (n_out + per_row * up - 1) // (per_row * up) + 1
    padded = tf.pad(x, [[n_taps - 1, _right_pad(n_in, start + rows * step, n_taps)]])
    padded = tf.reshape(padded[start:start + tf.cast(rows * step, tf.int32)], [-1, step])
    windows = tf.concat([padded[:-1], padded[1:]], axis=1)
    y = tf.reshape(tf.linalg.matmul(windows, tf.constant(matrix)), [-1])
    return y[:tf.cast(n_out, tf.int32)]
