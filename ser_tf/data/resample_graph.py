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
output channels.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ser_tf.errors import ParameterError

__all__ = ["polyphase_matrix", "resample"]

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
        ParameterError: a rate that is not a positive integer.
    """
    import tensorflow as tf

    for name, value in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        if int(value) != value or value <= 0:
            raise ParameterError(f"{name} must be a positive integer in Hz, got {value!r}")
    g = math.gcd(int(orig_sr), int(target_sr))
    up, down = int(target_sr) // g, int(orig_sr) // g
    x = tf.convert_to_tensor(x, tf.float32)
    if up == down:
        return x
    matrix, start = polyphase_matrix(up, down)
    width = matrix.shape[0]
    n_taps = width - down
    n_in = tf.cast(tf.shape(x)[0], tf.int64)  # int64: samples * up overflows int32 for long files
    n_out = (n_in * up + down - 1) // down
    blocks = (n_out + up - 1) // up
    needed = start + (blocks - 1) * down + width  # padded samples the last block reaches
    right = tf.maximum(needed - (n_in + n_taps - 1), 0)
    padded = tf.pad(x, [[n_taps - 1, tf.cast(right, tf.int32)]])[start:]
    # The frames times the matrix, as one strided convolution with `up` output channels: 10x
    # quicker than tf.signal.frame + matmul (frame gathers every sample width / down times).
    blocks_out = tf.nn.conv1d(padded[None, :, None], tf.constant(matrix[:, None, :]), down, "VALID")
    y = tf.reshape(blocks_out[0, :tf.cast(blocks, tf.int32)], [-1])
    return y[:tf.cast(n_out, tf.int32)]
