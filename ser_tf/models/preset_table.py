"""Lookups in a model family's preset table, shared by the families' ``presets.py``.

A table maps each preset name to ``{"description": str, "kwargs": dict}`` (the backbone's
keyword arguments).
"""

from __future__ import annotations

import copy
from typing import Dict, Mapping

from ser_tf.errors import ParameterError


def describe_presets(presets: Mapping[str, Mapping]) -> Dict[str, str]:
    """``{name: description}`` of every preset in ``presets``, sorted by name."""
    return {name: spec["description"] for name, spec in sorted(presets.items())}


def preset_kwargs(presets: Mapping[str, Mapping], name: str, *, family: str) -> dict:
    """A fresh copy of the keyword arguments of preset ``name`` in ``presets``.

    Raises:
        ParameterError: unknown ``name``; the message names ``family`` and lists the presets.
    """
    if name not in presets:
        raise ParameterError(f"unknown {family} preset {name!r}; choose one of {sorted(presets)}")
    return copy.deepcopy(presets[name]["kwargs"])
