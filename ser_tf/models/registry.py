"""The architecture registry behind ``--arch``.

Each model family registers its architectures at import time with ``register_arch``. A builder
takes the number of classes and the whole resolved config (a plain dict, as loaded from
``configs/<arch>.yaml``) and returns a functional ``keras.Model`` whose input is a raw 16 kHz
waveform batch ``(batch, samples)`` in [-1, 1] and whose output is class probabilities
``(batch, num_classes)``.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Callable, Dict, Mapping, Optional

from ser_tf.errors import ParameterError

# Modules that register architectures when imported. Imported lazily by ``_load_families`` so that
# ``import ser_tf.models.registry`` stays cheap.
_FAMILY_MODULES = (
    "ser_tf.models.cnn_rnn",
    "ser_tf.models.cnn",
    "ser_tf.models.bilstm",
    "ser_tf.models.tdnn",
    "ser_tf.models.hubert",
    "ser_tf.models.whisper",
)


@dataclasses.dataclass(frozen=True)
class ArchSpec:
    name: str
    builder: Callable
    description: str = ""
    # Optional ``make_callbacks(*, model, config) -> list[keras.callbacks.Callback]`` for
    # arch-specific training schedules (e.g. HuBERT's feature-encoder freeze then unfreeze).
    make_callbacks: Optional[Callable] = None


_ARCHS: Dict[str, ArchSpec] = {}


def register_arch(
    name: str, *, builder: Callable, description: str = "", make_callbacks: Optional[Callable] = None
) -> None:
    """Register ``builder(*, num_classes: int, config: Mapping) -> keras.Model`` as ``name``."""
    _ARCHS[name] = ArchSpec(name, builder, description, make_callbacks)


def get_arch(name: str) -> ArchSpec:
    """The registered spec of ``name``; raises ``ParameterError`` listing the choices if unknown."""
    _load_families()
    if name not in _ARCHS:
        raise ParameterError(f"unknown arch {name!r}; choose one of {sorted(_ARCHS)}")
    return _ARCHS[name]


def _load_families() -> None:
    for module in _FAMILY_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            # A family not written yet is simply absent; any other missing module is a real bug.
            if err.name != module:
                raise


def list_archs() -> Dict[str, str]:
    """``{name: description}`` of every registered architecture, sorted by name."""
    _load_families()
    return {k: _ARCHS[k].description for k in sorted(_ARCHS)}


def build_model(arch: str, *, num_classes: int, config: Mapping):
    """Build the architecture ``arch`` for ``num_classes`` classes from a resolved config.

    Raises:
        ParameterError: unknown ``arch`` (the message lists the choices) or ``num_classes < 2``.
    """
    spec = get_arch(arch)
    if int(num_classes) < 2:
        raise ParameterError(f"num_classes must be >= 2, got {num_classes!r}")
    return spec.builder(num_classes=int(num_classes), config=config)
