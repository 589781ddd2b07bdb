"""Checks of numeric arguments at the public entries, raising ``ParameterError`` with the value.

Without them a ``None``, a string, a bool or a NaN given for a rate or a length failed deep inside
NumPy or TensorFlow with a ``TypeError`` or ``ValueError`` that named neither the argument nor
the value (found by the fuzz tests of issue 14, ``tests/fuzz``).
"""

from __future__ import annotations

import math
import numbers

from ser_tf.errors import ParameterError

__all__ = ["positive_int", "number_at_least"]


def _real(value) -> bool:
    # bool is an int to Python, but True is never meant as a rate or a length.
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and \
        type(value).__name__ != "bool_" and math.isfinite(value)


def positive_int(value, *, name: str) -> int:
    """``value`` as an ``int`` when it is a whole number > 0 (an int, a NumPy integer, or an
    integral float such as ``16000.0``).

    Raises:
        ParameterError: anything else (``None``, text, bool, NaN, 0, -1, 2.5), naming ``name``.
    """
    if not _real(value) or int(value) != value or value <= 0:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def number_at_least(value, *, name: str, low: float, strict: bool = False) -> float:
    """``value`` as a ``float`` when it is a finite number ``>= low`` (``> low`` if ``strict``).

    Raises:
        ParameterError: anything else (``None``, text, bool, NaN, inf, too small), naming ``name``.
    """
    if not _real(value) or value < low or (strict and value == low):
        raise ParameterError(f"{name} must be a finite number {'>' if strict else '>='} {low:g}, "
                             f"got {value!r}")
    return float(value)
