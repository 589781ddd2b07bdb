"""Build the front-end and SpecAugment layers from a resolved config (``ser_tf.settings``).

Every model family calls these, so a recipe's ``features:`` and ``augment.specaugment:``
sections mean the same thing whatever the architecture.
"""

from __future__ import annotations

from typing import Mapping

from ser_tf import constants as C
from ser_tf.errors import ConfigError
from ser_tf.layers.log_mel import LogMelSpectrogram
from ser_tf.layers.mfcc import MFCC, MFCC_N_MELS
from ser_tf.layers.spec_augment import SpecAugment

FEATURE_KINDS = ("logmel", "mfcc")


def frontend_from_config(config: Mapping, *, name: str = "frontend"):
    """``LogMelSpectrogram`` or ``MFCC`` named ``name``, from ``config["features"]``/``["audio"]``.

    Missing keys fall back to ``ser_tf.constants``. For ``kind: mfcc``, ``n_mels`` defaults to
    128 (librosa's MFCC default) and ``deltas`` to True.

    Raises:
        ConfigError: unknown ``features.kind`` or an invalid value (the message repeats it).
    """
    features = dict(config.get("features") or {})
    audio = config.get("audio") or {}
    kind = features.get("kind", "logmel")
    common = {
        "sample_rate": int(audio.get("sample_rate", C.SAMPLE_RATE)),
        "n_fft": int(features.get("n_fft", C.N_FFT)),
        "win_length": int(features.get("win_length", C.WIN_LENGTH)),
        "hop_length": int(features.get("hop_length", C.HOP_LENGTH)),
        "fmin": float(features.get("fmin", C.FMIN)),
        "fmax": float(features.get("fmax", C.FMAX)),
        "top_db": features.get("top_db", C.TOP_DB),
        "normalization": features.get("normalization", "minmax"),
        "name": name,
    }
    try:
        if kind == "logmel":
            return LogMelSpectrogram(n_mels=int(features.get("n_mels", C.N_MELS)), **common)
        if kind == "mfcc":
            return MFCC(
                n_mels=int(features.get("n_mels", MFCC_N_MELS)),
                n_mfcc=int(features.get("n_mfcc", C.N_MFCC)),
                deltas=bool(features.get("deltas", True)),
                delta_width=int(features.get("delta_width", C.DELTA_WIDTH)),
                **common,
            )
    except ValueError as err:  # ParameterError is a ValueError; say which config section
        raise ConfigError(f"features: {err}") from err
    raise ConfigError(f"features.kind must be one of {FEATURE_KINDS}, got {kind!r}")


def spec_augment_from_config(config: Mapping, *, name: str = "spec_augment"):
    """``SpecAugment`` from ``config["augment"]["specaugment"]``, or None when not enabled."""
    section = (config.get("augment") or {}).get("specaugment") or {}
    if not section.get("enabled", False):
        return None
    kwargs = {k: section[k] for k in ("time_masks", "time_width", "freq_masks", "freq_width")
              if k in section}
    try:
        return SpecAugment(name=name, **kwargs)
    except ValueError as err:
        raise ConfigError(f"augment.specaugment: {err}") from err
