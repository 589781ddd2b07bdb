"""Checking and converting the values the store owns: times, choices, numbers, mappings.

Everything the store writes passes through here, so numpy scalars become plain floats (psycopg
and ``json`` refuse them) and a bad value is reported by name before anything is written.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Dict, Optional

from ser_tf.errors import ParameterError


def utc_now() -> datetime:
    """The current time as the store keeps it: naive UTC, whole seconds."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def to_utc(value: datetime, *, name: str) -> datetime:
    """A timezone-aware ``value`` as naive UTC (the database's form).

    Raises:
        ParameterError: ``value`` is not a datetime, or is naive (its zone would be a guess).
    """
    if not isinstance(value, datetime):
        raise ParameterError(f"{name}={value!r} must be a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ParameterError(f"{name}={value!r} has no timezone; pass an aware datetime, "
                             f"e.g. datetime.now(timezone.utc)")
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def iso_z(value: Optional[datetime]) -> Optional[str]:
    """A naive UTC datetime from the database as ``"YYYY-MM-DDTHH:MM:SSZ"`` (seconds precision)."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def choice(value, choices, *, name: str) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ParameterError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def text(value, *, name: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"{name}={value!r} must be a non-empty string")
    return value


def number(value, *, name: str, low: Optional[float] = None, high: Optional[float] = None,
           low_open: bool = False, optional: bool = False) -> Optional[float]:
    """``value`` as a finite float within ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    if value is None and optional:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} must be a number") from None
    if isinstance(value, bool) or not math.isfinite(result):
        raise ParameterError(f"{name}={value!r} must be a finite number")
    too_low = low is not None and (result <= low if low_open else result < low)
    if too_low or (high is not None and result > high):
        bracket = "(" if low_open else "["
        raise ParameterError(f"{name}={value!r} is out of range {bracket}{low}, {high}]")
    return result


def count(value, *, name: str) -> int:
    """A non-negative integer (a limit or an offset)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(f"{name}={value!r} must be a non-negative integer")
    return value


def scores(value, *, name: str, optional: bool = False) -> Optional[Dict[str, float]]:
    """``{emotion: float}`` with plain ``str`` keys and finite ``float`` values."""
    if value is None and optional:
        return None
    if not isinstance(value, dict):
        raise ParameterError(f"{name}={value!r} must be a mapping {{emotion: number}}")
    return {str(key): number(score, name=f"{name}[{key!r}]") for key, score in value.items()}


def envelope(value, *, name: str = "envelope") -> dict:
    """``{"mins": [float], "maxs": [float], "duration": float}`` with lists of equal length."""
    if not isinstance(value, dict) or not {"mins", "maxs", "duration"} <= set(value):
        raise ParameterError(f"{name} must be a mapping with mins, maxs and duration, got {value!r:.200}")
    mins = [number(item, name=f"{name}['mins']") for item in value["mins"]]
    maxs = [number(item, name=f"{name}['maxs']") for item in value["maxs"]]
    if len(mins) != len(maxs):
        raise ParameterError(f"{name} has {len(mins)} mins but {len(maxs)} maxs; they pair up bin by bin")
    return {"mins": mins, "maxs": maxs, "duration": number(value["duration"], name=f"{name}['duration']", low=0)}
