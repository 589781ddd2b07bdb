"""Crop or zero-pad a waveform to a fixed length: one rule for training, augmentation and inference.

Placement of ``samples`` input samples in ``length`` output samples, ``span = |samples - length|``:
an ``offset`` in ``[0, span]`` is where the kept window starts in a longer clip, or where a shorter
clip starts among the zeros. The centre offset is ``span // 2``, so the extra sample of an odd
difference goes to the end; a random offset is drawn uniformly from ``[0, span]``.

:func:`fix_length` works on TensorFlow tensors (inside ``tf.data`` and the augmentations);
:func:`fix_length_numpy` on NumPy arrays (inference). Both take their offsets from
:func:`center_offset` and place with :func:`_placement`, so they agree sample for sample. This
module imports NumPy only; TensorFlow is imported by :func:`fix_length` when called, so inference
starts without loading it.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ser_tf.errors import ParameterError
from ser_tf.utils.checks import positive_int

__all__ = ["CROP_MODES", "center_offset", "fix_length", "fix_length_numpy"]

CROP_MODES = ("random", "center")


def center_offset(samples, length):
    """The centred placement's offset, ``|samples - length| // 2``.

    Args:
        samples: input length in samples (int, NumPy integer or int32 scalar tensor).
        length: output length in samples (same kinds).

    Returns:
        The offset, of the kind of the arguments.
    """
    return abs(samples - length) // 2


def _placement(samples, length, offset, *, ops):
    """``(start, left)``: first sample kept of the input, and zeros before it in the output.

    ``ops`` is ``numpy`` or ``tensorflow`` (both have ``minimum`` and ``maximum``). For ``offset``
    in ``[0, span]``: a longer input gives ``(offset, 0)``, a shorter one ``(0, offset)``.
    """
    excess = samples - length
    start = ops.minimum(offset, ops.maximum(excess, 0))
    left = ops.minimum(offset, ops.maximum(-excess, 0))
    return start, left


def _check_length(length):
    """``length`` as an int, or unchanged when it is a tensor (checked by the graph's shapes)."""
    if hasattr(length, "dtype") and getattr(length, "shape", None) == () \
            and not isinstance(length, np.generic):
        return length  # an int32 scalar tensor
    return positive_int(length, name="fix_length: length (samples)")


def fix_length_numpy(x, length: int, *, offset: Optional[int] = None) -> np.ndarray:
    """Crop or zero-pad a NumPy waveform to exactly ``length`` samples.

    Args:
        x: ``(samples,)`` waveform, converted to float32.
        length: output length in samples (> 0).
        offset: placement in ``[0, |samples - length|]`` (see the module docstring); ``None`` =
            :func:`center_offset`, as the evaluation pipeline does.

    Returns:
        float32 ``(length,)``; ``x`` itself when it already has ``length`` samples.

    Raises:
        ParameterError: ``length <= 0``, or ``offset`` outside ``[0, |samples - length|]``.
    """
    length = _check_length(length)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ParameterError(f"fix_length_numpy expects a (samples,) waveform, got shape {x.shape}")
    samples = len(x)
    span = abs(samples - length)
    if offset is None:
        offset = center_offset(samples, length)
    elif isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) \
            or not 0 <= offset <= span:
        raise ParameterError(
            f"fix_length_numpy: offset must lie in [0, {span}] for {samples} samples to "
            f"{length}, got {offset!r}"
        )
    if samples == length:
        return x
    start, left = (int(v) for v in _placement(samples, length, offset, ops=np))
    kept = x[start:start + length]
    if len(kept) == length:
        return kept
    out = np.zeros(length, dtype=np.float32)
    out[left:left + len(kept)] = kept
    return out


def fix_length(x, length, *, mode: str = "center", seed=None):
    """Crop or zero-pad a waveform tensor to exactly ``length`` samples (graph-safe).

    Args:
        x: float ``(samples,)`` tensor or array.
        length: output length in samples (> 0): a Python int, or an int32 scalar tensor (the
            static shape is then unknown).
        mode: ``"center"``: centre crop, or symmetric zero padding (the extra sample of an odd
            difference goes to the end) -- deterministic, used for evaluation. ``"random"``: a
            window of ``length`` samples at a uniformly drawn offset; a clip shorter than
            ``length`` is placed at a uniformly drawn offset inside ``length`` zeros.
        seed: shape ``[2]`` integer tensor, required for ``"random"`` (stateless draw).

    Returns:
        ``(length,)`` tensor, dtype of ``x``.

    Raises:
        ParameterError: an unknown ``mode``, ``length <= 0``, or ``"random"`` without ``seed``.
    """
    import tensorflow as tf  # here, not at import: inference uses this module without TensorFlow

    if mode not in CROP_MODES:
        raise ParameterError(f"fix_length mode must be one of {CROP_MODES}, got {mode!r}")
    length = _check_length(length)
    if mode == "random" and seed is None:
        raise ParameterError("fix_length(mode='random') needs a seed (shape [2] integer tensor)")
    x = tf.convert_to_tensor(x)
    samples = tf.shape(x)[0]
    if mode == "center":
        offset = center_offset(samples, length)
    else:
        span = tf.abs(samples - length)
        offset = tf.random.stateless_uniform([], seed=seed, minval=0, maxval=span + 1,
                                             dtype=tf.int32)
    start, left = _placement(samples, length, offset, ops=tf)
    y = x[start:start + length]
    y = tf.pad(y, [[left, length - tf.shape(y)[0] - left]])
    if isinstance(length, (int, np.integer)):
        y.set_shape([int(length)])
    return y
